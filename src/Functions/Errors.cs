namespace BrokerLink.Functions;

// The type names are the Lambda errorType the state machine catches: do not rename.

/// <summary>Malformed JSON, a missing or wrong-typed field, an unknown event, an ARN or name that does not parse.</summary>
public sealed class InvalidInputException(string message) : Exception(message);

/// <summary>A manual input names a link that is not in the table.</summary>
public sealed class UnknownLinkException(string message) : Exception(message);

/// <summary>An observation is a partial read (a page chain or listing that says there is more).</summary>
public sealed class IncompleteObservationException(string message) : Exception(message);
