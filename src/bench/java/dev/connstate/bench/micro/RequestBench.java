package dev.connstate.bench.micro;

import java.util.concurrent.TimeUnit;

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
 * The tracker's cost per HTTP/1.1 keep-alive request ({@code active}, {@code idle}): Jetty parses
 * a request on an open connection, runs a hello handler and writes the response, all on the
 * benchmark thread ({@link LocalServer}); the tracker hears it through its request customizer
 * and the request-end listener of the {@code HttpConfiguration}, as in a server. {@code plain}
 * is Jetty alone: the tracker's share is a variant minus {@code plain}, in time and in bytes
 * ({@code -prof gc}).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 5, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgs = {"-Xms512m", "-Xmx512m", "-XX:+UseG1GC"})
public class RequestBench
{
    @Param({"plain", "count", "inline", "queued", "metrics", "micrometer-jetty"})
    public String variant;

    private LocalServer server;
    private LocalConnector.LocalEndPoint endPoint;

    @Setup(Level.Trial)
    public void setUp() throws Exception
    {
        server = new LocalServer(variant, 0);
        endPoint = server.open();
    }

    /**
     * @return the response's length
     */
    @Benchmark
    public int keepAliveRequest()
    {
        return server.request(endPoint);
    }

    @TearDown(Level.Trial)
    public void tearDown() throws Exception
    {
        endPoint.close();
        String seen = server.describe();
        server.close();
        System.out.println();
        System.out.println("[" + variant + "] " + seen);
        if (server.tracker() != null && (server.handled() == 0 || server.tracker().getRequestsTotal() != server.handled()))
            throw new IllegalStateException("The tracker did not see every request: " + seen);
    }
}
