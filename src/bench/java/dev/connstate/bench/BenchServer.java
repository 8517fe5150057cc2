package dev.connstate.bench;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.LongAdder;

import dev.connstate.ConnInfo;
import dev.connstate.ConnState;
import dev.connstate.ConnStateListener;
import dev.connstate.Tls;
import dev.connstate.jetty.ConnStateTracker;
import dev.connstate.jetty.QueuedListener;
import dev.connstate.micrometer.ConnStateMeterBinder;
import dev.connstate.sink.ConnLogSink;
import dev.connstate.sink.JsonLinesSink;
import dev.connstate.sink.LogSink;
import io.micrometer.core.instrument.binder.jetty.JettyConnectionMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.HttpVersion;
import org.eclipse.jetty.http2.server.HTTP2CServerConnectionFactory;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.jmx.MBeanContainer;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.SecureRequestCustomizer;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.SslConnectionFactory;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.ssl.SslContextFactory;
import org.eclipse.jetty.util.thread.QueuedThreadPool;

/**
 * One embedded Jetty 12.1 with a hello handler, in its own JVM, driven by {@link Bench}.
 *
 * <p>{@code java dev.connstate.bench.BenchServer VARIANT DIR}, VARIANT one of</p>
 * <ul>
 *   <li>{@code plain}: Jetty alone, no tracker;</li>
 *   <li>{@code count}: counting only, as the module does it with blank sinks and the jmx
 *   module: a tracker without listeners, its gauges and totals read through JMX;</li>
 *   <li>{@code inline}: the same plus one inline listener that counts transitions (an embedded
 *   application's {@code addInlineListener});</li>
 *   <li>{@code keepalive}: {@code count} (no listener) with the keep-alive timeout on, at 2 h
 *   ({@code tracker.getKeepAlive().setTimeoutMillis}), above the connector's 1 h idle timeout: each
 *   connection that goes idle has its socket's idle timeout raised, and lowered once busy, and
 *   the keep-alive scan runs; no connection stays idle long enough to be closed by it;</li>
 *   <li>{@code queued}: a tracker with a queued listener that does nothing: what handing the
 *   events to a sink's thread costs, without formatting or writing them;</li>
 *   <li>{@code log}: a tracker with a queued {@link LogSink}; jetty-slf4j-impl writes it to
 *   standard error, which {@link Bench} redirects to a file;</li>
 *   <li>{@code jsonl}: a tracker with a queued {@link JsonLinesSink} appending to DIR/VARIANT.jsonl;</li>
 *   <li>{@code jsonl-null}: the same writing to /dev/null: the lines formatted and written, without
 *   the file system's work (with {@code queued} and {@code jsonl}, it splits the sink's cost into
 *   the hand-off, the formatting and the file);</li>
 *   <li>{@code connlog}: a tracker with a queued {@link ConnLogSink} appending to DIR/connlog.jsonl: one
 *   line per connection when it ends (the sink wants only the terminal states, so nothing else is
 *   queued to it); its thread, as {@code jsonl}'s, runs where the server's do unless
 *   {@code bench.sinkCpus} pins it;</li>
 *   <li>{@code metrics}: a tracker with {@link ConnStateMeterBinder} bound to a Micrometer
 *   {@link PrometheusMeterRegistry} (what an application exposing Prometheus metrics runs; the
 *   load is measured between scrapes: a scrape walks the open connections off the request path).</li>
 * </ul>
 *
 * <p>One connector on 127.0.0.1 (free port) speaks HTTP/1.1 and h2c (prior knowledge or upgrade),
 * a second one HTTP/1.1 over TLS (the tests' self-signed certificate, {@link Tls#server()}, and a
 * {@link SecureRequestCustomizer}, as Jetty's https module), with the same thread pool, selectors
 * and configuration in every variant, and JMX on (an {@code MBeanContainer}, as the jmx module
 * adds) in every variant. It prints {@code READY port tlsPort} and then answers commands on
 * standard input, one line each:</p>
 * <ul>
 *   <li>{@code stats}: {@code STATS cpuNanos requests allocatedBytes gcCount gcMillis dropped delivered queued sinkCpuNanos}
 *   (process CPU time; requests handled; bytes allocated by all live threads; queued-listener
 *   events dropped, delivered and waiting; CPU time of the queued listeners' threads,
 *   {@code connstate-*}, part of the process's);</li>
 *   <li>{@code heap}: full GCs, then {@code HEAP usedBytes openEndPoints trackedConnections};</li>
 *   <li>{@code quit}: stops the server and exits.</li>
 * </ul>
 *
 * <p>With {@code -Dbench.sinkCpus=CPUS} (as {@code taskset -c} names them) the queued listeners'
 * threads are pinned there once the server has started, away from the server's own CPUs: the
 * situation of a production server, where the sink's thread does not take a core from Jetty.</p>
 */
public final class BenchServer
{
    private static final LongAdder REQUESTS = new LongAdder();

    private BenchServer()
    {
    }

    /**
     * Adds to {@code server} an HTTP/1.1 connector on a free port of 127.0.0.1, with the
     * configuration every bench server uses (no Server or Date header): for the harnesses'
     * servers ({@code KeepAliveServer}, {@code AttackServer}).
     */
    static ServerConnector http1Connector(Server server, long idleMillis, int acceptQueue)
    {
        HttpConfiguration config = new HttpConfiguration();
        config.setSendServerVersion(false);
        config.setSendDateHeader(false);
        ServerConnector connector = new ServerConnector(server, new HttpConnectionFactory(config));
        connector.setHost("127.0.0.1");
        connector.setPort(0);
        connector.setIdleTimeout(idleMillis);
        connector.setAcceptQueueSize(acceptQueue);
        server.addConnector(connector);
        return connector;
    }

    /**
     * Adds to {@code server} the HTTP/1.1 over TLS connector every variant has, on a free port of
     * 127.0.0.1: the tests' self-signed certificate (one keystore per build, so every variant
     * presents the same key), {@code config} with a {@link SecureRequestCustomizer} as Jetty's
     * https module adds, and the plain connector's idle timeout and accept queue.
     */
    static ServerConnector tlsConnector(Server server, HttpConfiguration config) throws Exception
    {
        SslContextFactory.Server ssl = Tls.server();
        // Every connection a full handshake: wrk (OpenSSL) keeps the session of its connection's
        // last handshake (SSL_clear) and offers it on the next one, and the JDK's server resumed
        // nearly all of them (TLSv1.3 PSK, seen with -Djavax.net.debug=ssl:handshake). wrk cannot
        // be told not to, so the server sends no session ticket: the JDK sends none when the
        // session timeout exceeds the 7 days a TLSv1.3 ticket may live (NewSessionTicket's
        // MAX_TICKET_LIFETIME), and without a ticket TLSv1.3 has nothing to resume.
        ssl.setSslSessionTimeout(7 * 24 * 3600 + 1);
        HttpConfiguration tlsConfig = new HttpConfiguration(config);
        tlsConfig.addCustomizer(new SecureRequestCustomizer());
        ServerConnector connector = new ServerConnector(server, new SslConnectionFactory(ssl, HttpVersion.HTTP_1_1.asString()), new HttpConnectionFactory(tlsConfig));
        connector.setHost("127.0.0.1");
        connector.setPort(0);
        connector.setIdleTimeout(3_600_000);
        connector.setAcceptQueueSize(4096);
        server.addConnector(connector);
        return connector;
    }

    public static void main(String[] args) throws Exception
    {
        String variant = args[0];
        Path dir = Path.of(args.length > 1 ? args[1] : "target/bench");

        QueuedThreadPool threads = new QueuedThreadPool();
        threads.setName("server");
        // Threads live through the run: the allocation counters of dead threads would be lost.
        threads.setIdleTimeout(3_600_000);
        Server server = new Server(threads);
        HttpConfiguration config = new HttpConfiguration();
        config.setSendServerVersion(false);
        config.setSendDateHeader(false);
        ServerConnector connector = new ServerConnector(server, new HttpConnectionFactory(config), new HTTP2CServerConnectionFactory(config));
        connector.setHost("127.0.0.1");
        connector.setPort(0);
        connector.setIdleTimeout(3_600_000);
        connector.setAcceptQueueSize(4096);
        server.addConnector(connector);
        ServerConnector tls = tlsConnector(server, config);
        server.setHandler(new Hello());
        server.addBean(new MBeanContainer(ManagementFactory.getPlatformMBeanServer()));

        ConnStateTracker tracker = null;
        List<QueuedListener> queues = new ArrayList<>();
        LongAdder transitions = new LongAdder();
        switch (variant)
        {
            // "aa": plain Jetty again, in a JVM of its own: the A/A control, whose ratio to plain is the run's own spread.
            case "plain", "aa" -> { }
            case "count" -> tracker = new ConnStateTracker(server);
            // Above the connector's idle timeout, so that the raise path runs; never fires in a run.
            case "keepalive" ->
            {
                tracker = new ConnStateTracker(server);
                tracker.getKeepAlive().setTimeoutMillis(7_200_000);
            }
            // The protections on, never firing: a head deadline far above a request's, caps far above the load's connections.
            case "protect" ->
            {
                tracker = new ConnStateTracker(server);
                tracker.getRequestHeaderTimeout().setTimeoutMillis(30_000);
                tracker.getClientLimits().setMaxConnections(100_000);
                tracker.getClientLimits().setMaxNew(100_000);
            }
            case "inline" ->
            {
                tracker = new ConnStateTracker(server);
                tracker.addInlineListener(new Counter(transitions));
            }
            case "queued" ->
            {
                tracker = new ConnStateTracker(server);
                queues.add(tracker.addListener("queued", (conn, state) -> { }, ConnStateTracker.DEFAULT_QUEUE_CAPACITY));
            }
            case "log" ->
            {
                tracker = new ConnStateTracker(server);
                queues.add(tracker.addListener("log", new LogSink(), ConnStateTracker.DEFAULT_QUEUE_CAPACITY));
            }
            case "jsonl" ->
            {
                tracker = new ConnStateTracker(server);
                queues.add(tracker.addListener("jsonl", new JsonLinesSink(dir.resolve("jsonl.jsonl")), ConnStateTracker.DEFAULT_QUEUE_CAPACITY));
            }
            case "jsonl-null" ->
            {
                tracker = new ConnStateTracker(server);
                queues.add(tracker.addListener("jsonl", new JsonLinesSink(Path.of("/dev/null")), ConnStateTracker.DEFAULT_QUEUE_CAPACITY));
            }
            case "connlog" ->
            {
                tracker = new ConnStateTracker(server);
                queues.add(tracker.addListener("connlog", ConnLogSink.builder(dir.resolve("connlog.jsonl")).build(), ConnStateTracker.DEFAULT_QUEUE_CAPACITY));
            }
            case "metrics" ->
            {
                tracker = new ConnStateTracker(server);
                new ConnStateMeterBinder(tracker).bindTo(new PrometheusMeterRegistry(PrometheusConfig.DEFAULT));
            }
            // The peer a Spring Boot user has already: Micrometer's own Jetty connection metrics, bound
            // as Boot binds them (JettyConnectionMetrics.addToAllConnectors), on the same registry, no tracker.
            case "micrometer-jetty" -> JettyConnectionMetrics.addToAllConnectors(server, new PrometheusMeterRegistry(PrometheusConfig.DEFAULT));
            default -> throw new IllegalArgumentException("Unknown variant " + variant + " (plain, aa, count, keepalive, protect, inline, queued, log, jsonl, jsonl-null, connlog, metrics, micrometer-jetty)");
        }
        if (tracker != null)
            server.addBean(tracker);
        server.start();
        pinSinkThreads(System.getProperty("bench.sinkCpus", "").trim());
        System.out.println("READY " + connector.getLocalPort() + " " + tls.getLocalPort());
        System.out.flush();

        com.sun.management.OperatingSystemMXBean os = (com.sun.management.OperatingSystemMXBean)ManagementFactory.getOperatingSystemMXBean();
        com.sun.management.ThreadMXBean tmx = (com.sun.management.ThreadMXBean)ManagementFactory.getThreadMXBean();
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        String line;
        while ((line = in.readLine()) != null)
        {
            switch (line.trim())
            {
                case "stats" ->
                {
                    long allocated = 0;
                    for (long bytes : tmx.getThreadAllocatedBytes(tmx.getAllThreadIds()))
                        allocated += Math.max(0, bytes);
                    long gcCount = 0;
                    long gcMillis = 0;
                    for (GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans())
                    {
                        gcCount += gc.getCollectionCount();
                        gcMillis += gc.getCollectionTime();
                    }
                    long dropped = 0;
                    long delivered = 0;
                    long queued = 0;
                    for (QueuedListener q : queues)
                    {
                        dropped += q.getDropped();
                        delivered += q.getDelivered();
                        queued += q.getQueued();
                    }
                    System.out.println("STATS " + os.getProcessCpuTime() + " " + REQUESTS.sum() + " " + allocated + " " + gcCount + " " + gcMillis + " " + dropped + " " + delivered + " " + queued + " " + sinkCpuNanos(tmx));
                }
                case "heap" ->
                {
                    for (int i = 0; i < 4; i++)
                    {
                        System.gc();
                        Thread.sleep(100);
                    }
                    long used = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
                    System.out.println("HEAP " + used + " " + connector.getConnectedEndPoints().size() + " " + (tracker == null ? 0 : tracker.getTrackedConnections()));
                }
                case "quit" ->
                {
                    server.stop();
                    System.out.println("BYE");
                    System.out.flush();
                    System.exit(0);
                }
                default -> System.out.println("ERROR unknown command " + line);
            }
            System.out.flush();
        }
        server.stop();
    }

    /** CPU time of the queued listeners' delivery threads ({@code connstate-NAME}). */
    private static long sinkCpuNanos(com.sun.management.ThreadMXBean tmx)
    {
        long nanos = 0;
        for (java.lang.management.ThreadInfo info : tmx.getThreadInfo(tmx.getAllThreadIds()))
        {
            if (info != null && info.getThreadName().startsWith("connstate-"))
                nanos += Math.max(0, tmx.getThreadCpuTime(info.getThreadId()));
        }
        return nanos;
    }

    /**
     * Pins the queued listeners' threads to {@code cpus} with {@code taskset -p}: Linux names a
     * thread by the first 15 characters of its Java name in /proc/self/task/TID/comm.
     */
    private static void pinSinkThreads(String cpus) throws Exception
    {
        if (cpus.isEmpty())
            return;
        int pinned = 0;
        try (java.util.stream.Stream<Path> tasks = java.nio.file.Files.list(Path.of("/proc/self/task")))
        {
            for (Path task : tasks.toList())
            {
                String comm = java.nio.file.Files.readString(task.resolve("comm")).trim();
                if (!comm.startsWith("connstate-"))
                    continue;
                Process taskset = new ProcessBuilder("taskset", "-p", "-c", cpus, task.getFileName().toString()).redirectErrorStream(true).start();
                taskset.getInputStream().transferTo(java.io.OutputStream.nullOutputStream());
                if (taskset.waitFor() != 0)
                    throw new IllegalStateException("taskset -p -c " + cpus + " " + task.getFileName() + " failed");
                pinned++;
            }
        }
        System.err.println("bench: pinned " + pinned + " connstate-* threads to CPUs " + cpus);
    }

    /** An embedded application's inline listener that only counts. */
    private record Counter(LongAdder transitions) implements ConnStateListener
    {
        @Override
        public void onStateChange(ConnInfo conn, ConnState state)
        {
            transitions.increment();
        }
    }

    /** Answers "hello" to everything; identical in every variant. */
    static final class Hello extends Handler.Abstract.NonBlocking
    {
        @Override
        public boolean handle(Request request, Response response, Callback callback)
        {
            REQUESTS.increment();
            response.getHeaders().put(HttpHeader.CONTENT_TYPE, "text/plain");
            Content.Sink.write(response, true, "hello", callback);
            return true;
        }
    }
}
