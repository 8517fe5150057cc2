package dev.connstate.spring;

import java.net.Socket;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CopyOnWriteArrayList;

import dev.connstate.ConnState;
import dev.connstate.Raw;
import dev.connstate.TrackedServer;
import dev.connstate.Wait;
import dev.connstate.config.ConnStateModule;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;

/**
 * Run by {@link NoSpringTest} in a class loader without Spring: the {@code connstate} module (its
 * log sink, found through the jar's service file) on a server that serves one request; returns
 * the connection's sequence.
 */
public class NoSpringProbe implements Callable<String>
{
    @Override
    public String call() throws Exception
    {
        Server server = new Server();
        ServerConnector connector = new ServerConnector(server, 1, 1);
        connector.setHost("127.0.0.1");
        server.addConnector(connector);
        server.setHandler(new TrackedServer.Hello());
        ConnStateModule module = new ConnStateModule(server);
        List<ConnState> states = new CopyOnWriteArrayList<>();
        module.getTracker().addInlineListener((conn, state) -> states.add(state));
        server.addBean(module);
        server.start();
        try
        {
            try (Socket socket = Raw.connect(connector.getLocalPort()))
            {
                Raw.write(socket, "GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
                Raw.read(socket.getInputStream());
            }
            Wait.until("the connection to close", () -> states.contains(ConnState.CLOSED));
            return String.join(", ", states.stream().map(ConnState::toString).toList());
        }
        finally
        {
            server.stop();
        }
    }
}
