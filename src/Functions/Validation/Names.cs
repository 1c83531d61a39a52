using System.Text;

namespace BrokerLink.Functions.Validation;

/// <summary>DNS name normalisation, the way Route 53 compares names.</summary>
internal static class Names
{
    /// <summary>Lower-case, no trailing dot, Route 53's octal escapes (<c>\052</c> for <c>*</c>) decoded.</summary>
    public static string Normalise(string name)
    {
        var unescaped = name.Contains('\\') ? Unescape(name) : name;
        return unescaped.TrimEnd('.').ToLowerInvariant();
    }

    /// <summary>An alias target's DNS name compared as Route 53 stores it: it may add <c>dualstack.</c> for load balancers.</summary>
    public static string NormaliseAliasTarget(string name)
    {
        var normal = Normalise(name);
        return normal.StartsWith("dualstack.", StringComparison.Ordinal) ? normal["dualstack.".Length..] : normal;
    }

    private static string Unescape(string name)
    {
        var result = new StringBuilder(name.Length);
        for (var i = 0; i < name.Length; i++)
        {
            if (name[i] == '\\' && IsOctal(name, i + 1))
            {
                result.Append((char)Convert.ToInt32(name.Substring(i + 1, 3), 8));
                i += 3;
            }
            else
            {
                result.Append(name[i]);
            }
        }
        return result.ToString();
    }

    private static bool IsOctal(string s, int start) =>
        start + 3 <= s.Length && s.AsSpan(start, 3).IndexOfAnyExcept("01234567") < 0;
}
