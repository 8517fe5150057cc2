package dev.connstate.config;

import java.net.Socket;
import java.util.List;

import dev.connstate.Raw;
import dev.connstate.TrackedServer;
import dev.connstate.micrometer.ConnStatePrometheusHandler;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The {@code connstate-prometheus} module's bean on a real server, made as its XML makes it: the
 * handler goes in when the server starts (a handler set later by other XML does not drop it), once
 * however often the server starts; a bad path stops the start with one line naming it.
 */
public class ConnStatePrometheusModuleTest
{
    private static Raw.Response get(int port, String path) throws Exception
    {
        try (Socket socket = Raw.connect(port))
        {
            Raw.write(socket, "GET " + path + " HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
            return Raw.read(socket.getInputStream());
        }
    }

    /** A server with both modules' beans, as the two XML files make them, sinks off (counting for the table). */
    private static ConnStatePrometheusModule modules(Server server, String path, String statusPath)
    {
        ConnStateModule module = new ConnStateModule(server);
        module.setSinks("");
        module.setStatusPath(statusPath);
        server.addBean(module);
        ConnStatePrometheusModule prometheus = new ConnStatePrometheusModule(server, module);
        prometheus.setPath(path);
        server.addBean(prometheus);
        return prometheus;
    }

    /** Both modules at the default metrics path, then a connector and the application's handler. */
    private static Server serverWithModules(String statusPath)
    {
        Server server = new Server();
        // The connector and the handler come after the modules' XML, as a later module's XML would set them.
        modules(server, null, statusPath);
        ServerConnector connector = new ServerConnector(server, 1, 1);
        connector.setHost("127.0.0.1");
        server.addConnector(connector);
        server.setHandler(new TrackedServer.Hello());
        return server;
    }

    @Test
    public void theHandlerGoesInWhenTheServerStartsAndStaysOnce() throws Exception
    {
        Server server = serverWithModules("/connstate");
        try
        {
            for (int start = 0; start < 2; start++)
            {
                server.start();
                int port = TrackedServer.portOf(server);
                Raw.Response metrics = get(port, "/metrics");
                assertEquals(200, metrics.status(), metrics.head());
                assertTrue(metrics.text().contains("http_server_open_connections{"), metrics.text());
                assertEquals(200, get(port, "/connstate").status());
                assertEquals("hello", get(port, "/").text());
                assertEquals(1, server.getDescendants(ConnStatePrometheusHandler.class).size());
                server.stop();
            }
        }
        finally
        {
            server.stop();
        }
    }

    /** Prometheus reads the counts: no sink, no table, no JMX is a configuration that starts. */
    @Test
    public void prometheusAloneIsEnoughToCountOnly() throws Exception
    {
        Server server = serverWithModules("");
        try
        {
            server.start();
            int port = TrackedServer.portOf(server);
            assertEquals("hello", get(port, "/").text());
            Raw.Response metrics = get(port, "/metrics");
            assertEquals(200, metrics.status(), metrics.head());
            // The scrape's own connection, active while it is served.
            assertTrue(metrics.text().lines().anyMatch(line -> line.startsWith("http_server_open_connections{http_connection_state=\"active\"") && line.endsWith("} 1.0")), metrics.text());
            // No table: the application answers its path.
            assertEquals("hello", get(port, "/connstate").text());
        }
        finally
        {
            server.stop();
        }
    }

    @Test
    public void aBadPathStopsTheStartWithOneLine() throws Exception
    {
        String[][] cases = {
            {"metrics", "jetty.connstate.prometheus.path=metrics: the metrics path must start with '/', e.g. /metrics"},
            {"/metrics?x", "jetty.connstate.prometheus.path=/metrics?x: the metrics path must not hold '?', '#', spaces or control characters, e.g. /metrics"},
            {"/connstate", "jetty.connstate.prometheus.path=/connstate: the connection table's path (jetty.connstate.status.path): give them different paths"},
        };
        for (String[] c : cases)
        {
            Server server = TrackedServer.helloServer();
            modules(server, c[0], "/connstate");
            try
            {
                ConnStateConfigurationException x = assertThrows(ConnStateConfigurationException.class, server::start);
                assertEquals(c[1], x.getMessage());
                assertEquals(List.of(), server.getDescendants(ConnStatePrometheusHandler.class));
                assertFalse(server.isStarted());
            }
            finally
            {
                server.stop();
            }
        }
    }
}
