using System.Net;
using System.Runtime.InteropServices;
using BrokerLink.LocalLambdaHost;

// Serves the Lambda Invoke API on 127.0.0.1 for the local cloud (see docs/contract.md, "Local Lambda host").
int port = 0;
var functions = new Dictionary<string, StreamHandler>(StringComparer.Ordinal);
try
{
    for (var i = 0; i < args.Length; i++)
    {
        var value = i + 1 < args.Length ? args[i + 1] : throw new ArgumentException($"{args[i]} needs a value");
        switch (args[i])
        {
            case "--port":
                port = int.Parse(value, System.Globalization.CultureInfo.InvariantCulture);
                break;
            case "--function":
                var eq = value.IndexOf('=', StringComparison.Ordinal);
                if (eq <= 0)
                {
                    throw new ArgumentException($"--function expects Name=Assembly::Type::Method, got '{value}'");
                }
                functions[value[..eq]] = StreamHandler.Resolve(value[(eq + 1)..]);
                break;
            default:
                throw new ArgumentException($"unknown argument '{args[i]}'");
        }
        i++;
    }
    if (port is <= 0 or > 65535)
    {
        throw new ArgumentException("--port N (1-65535) is required");
    }
}
catch (Exception e)
{
    Console.Error.WriteLine($"LocalLambdaHost: {e.Message}");
    Console.Error.WriteLine("usage: BrokerLink.LocalLambdaHost --port N --function Name=Assembly::Type::Method [--function ...]");
    return 2;
}

using var listener = new HttpListener();
listener.Prefixes.Add($"http://127.0.0.1:{port}/");
try
{
    listener.Start();
}
catch (HttpListenerException e)
{
    Console.Error.WriteLine($"LocalLambdaHost: cannot listen on 127.0.0.1:{port}: {e.Message}");
    return 1;
}

using var stopping = new CancellationTokenSource();
void Stop(PosixSignalContext context)
{
    context.Cancel = true;
    stopping.Cancel();
    listener.Stop();
}
using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop);
using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop);

Console.WriteLine($"{{\"ready\": true, \"port\": {port}}}");

var inFlight = new List<Task>();
while (!stopping.IsCancellationRequested)
{
    HttpListenerContext context;
    try
    {
        context = await listener.GetContextAsync();
    }
    catch (Exception) when (stopping.IsCancellationRequested)
    {
        break;
    }
    inFlight.RemoveAll(t => t.IsCompleted);
    inFlight.Add(Task.Run(() => Invocations.Serve(context, functions)));
}
await Task.WhenAll(inFlight);
return 0;
