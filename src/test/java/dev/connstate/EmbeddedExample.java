package dev.connstate;

import java.io.PrintStream;

import dev.connstate.jetty.ConnStateTracker;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.Callback;

/**
 * The README's embedded example; {@code EmbeddedExampleTest} checks that the README shows
 * exactly this code and that it prints Go's four transitions for one request.
 */
public final class EmbeddedExample
{
    private EmbeddedExample()
    {
    }

    public static Server start(int port, PrintStream out) throws Exception
    {
        // tag::example[]
        Server server = new Server();
        ServerConnector connector = new ServerConnector(server);
        connector.setPort(port);
        server.addConnector(connector);
        server.setHandler(new Handler.Abstract()
        {
            @Override
            public boolean handle(org.eclipse.jetty.server.Request request, Response response, Callback callback)
            {
                Response.writeError(request, response, callback, 204);
                return true;
            }
        });

        // One line: every state change of every connection, on the listener's own thread.
        ConnStateTracker.attach(server, (conn, state) ->
            out.printf("Client: %s - new state: %s%n", conn.remoteAddress(), state));

        server.start();
        // end::example[]
        return server;
    }
}
