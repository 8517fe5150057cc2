package dev.connstate.metrics;

import java.net.Socket;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicInteger;

import dev.connstate.Wait;
import dev.connstate.ConnState;
import dev.connstate.Raw;
import dev.connstate.config.ConnStateConfigurationException;
import dev.connstate.jetty.ConnStateTracker;
import dev.connstate.config.OtelSwitch;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;

/**
 * Run inside {@link WithoutMetricsLibraries}: a server with a plain tracker serves one request,
 * the module's OpenTelemetry switch is applied, on or off; returns what happened, as text.
 */
public class NoMetricsProbe implements Callable<String>
{
    private final boolean on;

    public NoMetricsProbe(boolean on)
    {
        this.on = on;
    }

    @Override
    public String call() throws Exception
    {
        Server server = new Server();
        ServerConnector connector = new ServerConnector(server, 1, 1);
        connector.setHost("127.0.0.1");
        server.addConnector(connector);
        server.setHandler(new dev.connstate.TrackedServer.Hello());
        ConnStateTracker tracker = new ConnStateTracker(server);
        AtomicInteger closed = new AtomicInteger();
        tracker.addInlineListener((conn, state) ->
        {
            if (state == ConnState.CLOSED)
                closed.incrementAndGet();
        });
        server.addBean(tracker);
        try
        {
            String outcome;
            try
            {
                outcome = "returned " + OtelSwitch.apply(tracker, on);
            }
            catch (ConnStateConfigurationException x)
            {
                outcome = "refused: " + x.getMessage();
            }
            server.start();
            try (Socket socket = Raw.connect(connector.getLocalPort()))
            {
                Raw.write(socket, "GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
                Raw.read(socket.getInputStream());
            }
            Wait.until("the connection to close", () -> closed.get() == 1);
            return outcome + "; opened " + tracker.getOpenedTotal() + ", closed " + tracker.getClosedTotal();
        }
        finally
        {
            server.stop();
        }
    }
}
