namespace BrokerLink.Functions;

// Placeholder until the pure core lands: echoes its input.
public sealed class Handlers
{
    public Stream Triage(Stream input) => Echo(input);

    public Stream Plan(Stream input) => Echo(input);

    private static MemoryStream Echo(Stream input)
    {
        var copy = new MemoryStream();
        input.CopyTo(copy);
        copy.Position = 0;
        return copy;
    }
}
