package dev.connstate.bench.micro;

import java.util.concurrent.TimeUnit;

import org.eclipse.jetty.io.ByteArrayEndPoint;
import org.eclipse.jetty.io.Connection;
import org.eclipse.jetty.server.LocalConnector;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The tracker's cost per connection that opens and closes without a request ({@code new},
 * {@code closed}), in two ways:
 * <ul>
 *   <li>{@link #acceptClose()}: Jetty accepts an HTTP/1 connection and closes it, on the
 *   benchmark thread ({@link LocalServer}). The operation includes Jetty's own work (the end
 *   point, the HTTP connection and their callbacks), measured alone by {@code plain}: the
 *   tracker's share is a variant minus {@code plain}.</li>
 *   <li>{@link #listenersOnly()}: only the connector's {@link Connection.Listener}s (the
 *   tracker's, from {@code connector.getEventListeners()}, none for {@code plain}) told that an
 *   HTTP/1 connection opened and closed, as {@code AbstractConnection.onOpen()} and
 *   {@code onClose()} tell them. Jetty's HTTP/1 connection is made once and reused, its end
 *   point open at {@code onOpened} and closed at {@code onClosed}: the tracker's own work per
 *   connection (registry, both transitions, listeners) without Jetty's.</li>
 * </ul>
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 5, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgs = {"-Xms512m", "-Xmx512m", "-XX:+UseG1GC"})
public class ConnectionBench
{
    @Param({"plain", "count", "inline", "queued"})
    public String variant;

    private LocalServer server;
    private ReopenedEndPoint endPoint;
    private Connection connection;
    private Connection.Listener[] listeners;

    @Setup(Level.Trial)
    public void setUp() throws Exception
    {
        server = new LocalServer(variant, 0);
        LocalConnector connector = server.connector();
        listeners = connector.getEventListeners().stream()
            .filter(Connection.Listener.class::isInstance)
            .map(Connection.Listener.class::cast)
            .toArray(Connection.Listener[]::new);
        int expected = server.tracker() == null ? 0 : 1;
        if (listeners.length != expected)
            throw new IllegalStateException("Expected " + expected + " connection listener on " + connector + ", found " + listeners.length);
        endPoint = new ReopenedEndPoint();
        connection = connector.getDefaultConnectionFactory().newConnection(connector, endPoint);
        endPoint.setConnection(connection);
    }

    /**
     * @return the closed end point
     */
    @Benchmark
    public LocalConnector.LocalEndPoint acceptClose()
    {
        LocalConnector.LocalEndPoint accepted = server.open();
        accepted.close();
        return accepted;
    }

    /**
     * @return the connection
     */
    @Benchmark
    public Connection listenersOnly()
    {
        endPoint.open = true;
        for (Connection.Listener listener : listeners)
            listener.onOpened(connection);
        endPoint.open = false;
        for (Connection.Listener listener : listeners)
            listener.onClosed(connection);
        return connection;
    }

    @TearDown(Level.Trial)
    public void tearDown() throws Exception
    {
        // Proof that the tracker saw every connection, printed with the results.
        String seen = server.describe();
        server.close();
        System.out.println();
        System.out.println("[" + variant + "] " + seen);
        if (server.tracker() != null && (server.tracker().getOpenedTotal() == 0 || server.tracker().getOpenedTotal() != server.tracker().getClosedTotal()))
            throw new IllegalStateException("The tracker did not see every connection open and close: " + seen);
    }

    /** An in-memory end point that opens again: Jetty's never does, so one connection serves every operation. */
    private static final class ReopenedEndPoint extends ByteArrayEndPoint
    {
        boolean open = true;

        @Override
        public boolean isOpen()
        {
            return open;
        }
    }
}
