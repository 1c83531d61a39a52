using System.Net;
using System.Text;
using System.Text.Json;

namespace BrokerLink.LocalLambdaHost;

/// <summary>The subset of the Lambda Invoke API the local cloud needs.</summary>
public static class Invocations
{
    private const string Prefix = "/2015-03-31/functions/";
    private const string Suffix = "/invocations";

    public static async Task Serve(HttpListenerContext context, IReadOnlyDictionary<string, StreamHandler> functions)
    {
        var response = context.Response;
        try
        {
            var request = context.Request;
            // RawUrl keeps %2F in ARNs intact; decode after splitting off the route.
            var path = (request.RawUrl ?? "").Split('?')[0];
            if (request.HttpMethod != "POST" || !path.StartsWith(Prefix, StringComparison.Ordinal)
                || !path.EndsWith(Suffix, StringComparison.Ordinal) || path.Length <= Prefix.Length + Suffix.Length)
            {
                await Error(response, 404, "UnknownOperationException", $"Unknown operation {request.HttpMethod} {path}");
                return;
            }
            var requested = Uri.UnescapeDataString(path[Prefix.Length..^Suffix.Length]);
            var name = FunctionName(requested);
            if (!functions.TryGetValue(name, out var handler))
            {
                await Error(response, 404, "ResourceNotFoundException", $"Function not found: {requested}");
                return;
            }

            var input = new MemoryStream();
            await request.InputStream.CopyToAsync(input);
            input.Position = 0;

            var invocationType = request.Headers["X-Amz-Invocation-Type"] ?? "RequestResponse";
            if (invocationType == "DryRun")
            {
                response.StatusCode = 204;
                response.Close();
                return;
            }

            byte[] body;
            try
            {
                using var output = handler.Invoke(input);
                var buffer = new MemoryStream();
                output?.CopyTo(buffer);
                body = buffer.ToArray();
            }
            catch (Exception e)
            {
                Console.Error.WriteLine($"LocalLambdaHost: {name} threw {e}");
                response.AddHeader("X-Amz-Function-Error", "Unhandled");
                body = JsonSerializer.SerializeToUtf8Bytes(
                    new FunctionError(e.GetType().Name, e.Message, []), HostJson.Default.FunctionError);
            }

            response.AddHeader("X-Amz-Executed-Version", "$LATEST");
            if (invocationType == "Event")
            {
                response.StatusCode = 202;
                response.Close();
                return;
            }
            response.StatusCode = 200;
            response.ContentType = "application/json";
            response.ContentLength64 = body.Length;
            await response.OutputStream.WriteAsync(body);
            response.Close();
        }
        catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or IOException)
        {
            // The caller went away or the host is stopping: nothing left to answer.
        }
    }

    /// <summary>A plain name, a full ARN or a partial ARN; the last <c>:function:</c> segment picks the function.</summary>
    private static string FunctionName(string requested)
    {
        const string marker = ":function:";
        var at = requested.LastIndexOf(marker, StringComparison.Ordinal);
        var name = at < 0 ? requested : requested[(at + marker.Length)..];
        var qualifier = name.IndexOf(':', StringComparison.Ordinal);
        return qualifier < 0 ? name : name[..qualifier];
    }

    private static async Task Error(HttpListenerResponse response, int status, string type, string message)
    {
        var body = JsonSerializer.SerializeToUtf8Bytes(new ServiceError("User", message), HostJson.Default.ServiceError);
        response.StatusCode = status;
        response.ContentType = "application/json";
        response.AddHeader("x-amzn-ErrorType", type);
        response.ContentLength64 = body.Length;
        await response.OutputStream.WriteAsync(body);
        response.Close();
    }
}
