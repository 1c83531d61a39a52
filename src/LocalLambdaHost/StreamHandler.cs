using System.Reflection;
using System.Runtime.Loader;

namespace BrokerLink.LocalLambdaHost;

/// <summary>A Lambda handler <c>Stream Method(Stream)</c> found by reflection from its handler string.</summary>
public sealed class StreamHandler
{
    private readonly object? _instance;
    private readonly MethodInfo _method;
    // One instance serves one invocation at a time, as one Lambda execution environment does.
    private readonly Lock _gate = new();

    private StreamHandler(object? instance, MethodInfo method)
    {
        _instance = instance;
        _method = method;
    }

    /// <summary>Resolves <c>Assembly::Namespace.Type::Method</c>; the assembly is looked up by name, then in the app's directory.</summary>
    public static StreamHandler Resolve(string handler)
    {
        var parts = handler.Split("::");
        if (parts.Length != 3 || parts.Any(string.IsNullOrWhiteSpace))
        {
            throw new ArgumentException($"handler '{handler}' is not Assembly::Type::Method");
        }
        var assembly = LoadAssembly(parts[0]);
        var type = assembly.GetType(parts[1], throwOnError: false)
            ?? throw new ArgumentException($"type '{parts[1]}' not found in assembly '{parts[0]}'");
        var method = type.GetMethod(
                parts[2],
                BindingFlags.Public | BindingFlags.Instance | BindingFlags.Static,
                [typeof(Stream)])
            ?? throw new ArgumentException($"method '{parts[2]}(Stream)' not found on '{parts[1]}'");
        if (!typeof(Stream).IsAssignableFrom(method.ReturnType))
        {
            throw new ArgumentException($"method '{parts[1]}::{parts[2]}' must return Stream");
        }
        var instance = method.IsStatic ? null : Activator.CreateInstance(type);
        return new StreamHandler(instance, method);
    }

    public Stream? Invoke(Stream input)
    {
        lock (_gate)
        {
            try
            {
                return (Stream?)_method.Invoke(_instance, [input]);
            }
            catch (TargetInvocationException e) when (e.InnerException is not null)
            {
                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(e.InnerException);
                throw;
            }
        }
    }

    private static Assembly LoadAssembly(string name)
    {
        try
        {
            return AssemblyLoadContext.Default.LoadFromAssemblyName(new AssemblyName(name));
        }
        catch (FileNotFoundException)
        {
            var path = Path.Combine(AppContext.BaseDirectory, name + ".dll");
            if (!File.Exists(path))
            {
                throw new ArgumentException($"assembly '{name}' not found (looked for {path})");
            }
            return AssemblyLoadContext.Default.LoadFromAssemblyPath(path);
        }
    }
}
