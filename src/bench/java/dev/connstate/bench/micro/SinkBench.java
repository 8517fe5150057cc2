package dev.connstate.bench.micro;

import java.io.OutputStream;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Instant;
import java.util.concurrent.TimeUnit;

import dev.connstate.ConnState;
import dev.connstate.ConnStateEvent;
import dev.connstate.jetty.ConnStateTracker;
import dev.connstate.jetty.QueuedListener;
import dev.connstate.sink.JsonLinesSink;
import dev.connstate.sink.LogSink;
import org.eclipse.jetty.logging.JettyLevel;
import org.eclipse.jetty.logging.JettyLogger;
import org.eclipse.jetty.logging.StdErrAppender;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.slf4j.LoggerFactory;

/**
 * The built-in sinks' cost per event, on the thread that delivers it, and the hand-off to a
 * queued listener on the thread that reports it: ready {@link ConnStateEvent}s (keep-alive
 * events of 32 connections from 127.0.0.1 to 127.0.0.1:8080, as {@code wrk -c32} makes them)
 * given to each sink through its public constructor, its output discarded.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgs = {"-Xms512m", "-Xmx512m", "-XX:+UseG1GC"})
public class SinkBench
{
    private static final int CONNECTIONS = 32;
    /** A power of two: 64 events per connection's pair of states, cycled. */
    private static final int EVENTS = 2048;

    private final ConnStateEvent[] events = new ConnStateEvent[EVENTS];
    private int next;
    private JsonLinesSink jsonl;
    private LogSink logLine;
    private LogSink logOff;
    private LogSink logDiscarded;
    private QueuedListener queue;

    @Setup(Level.Trial)
    public void setUp() throws Exception
    {
        Instant start = Instant.now();
        InetSocketAddress local = new InetSocketAddress("127.0.0.1", 8080);
        long openedAtMillis = start.toEpochMilli();
        // One address object per connection, as a tracked connection's snapshots share theirs.
        InetSocketAddress[] remotes = new InetSocketAddress[CONNECTIONS];
        for (int c = 0; c < CONNECTIONS; c++)
            remotes[c] = new InetSocketAddress("127.0.0.1", 40001 + c);
        for (int i = 0; i < EVENTS; i++)
        {
            int connection = (i >> 1) % CONNECTIONS;
            int request = i / (2 * CONNECTIONS) + 1;
            boolean active = (i & 1) == 0;
            ConnState state = active ? ConnState.ACTIVE : ConnState.IDLE;
            ConnState previous = active ? (request == 1 ? ConnState.NEW : ConnState.IDLE) : ConnState.ACTIVE;
            long ageNanos = 40_000L * i + 7_919;
            events[i] = new ConnStateEvent(start.plusNanos(ageNanos), connection + 1, remotes[connection], local,
                "http/1.1", false, state, previous, active ? 35_117 : 12_345, request, openedAtMillis, ageNanos, -1, null, false, null);
        }
        // Written by the kernel's null device: the formatting and the buffer's writes, not the disk.
        jsonl = new JsonLinesSink(Path.of("/dev/null"));
        logLine = new LogSink();
        logOff = new LogSink(jettyLogger("connstate.bench.off", JettyLevel.OFF), LogSink.DEFAULT_FORMAT);
        logDiscarded = new LogSink(jettyLogger("connstate.bench.discarded", JettyLevel.INFO), LogSink.DEFAULT_FORMAT);
        // jetty-slf4j-impl (the logging-jetty module's backend) formats the line as for standard
        // error; its one appender, shared by every logger of this benchmark's JVM, writes nowhere.
        JettyLogger discarded = (JettyLogger)LoggerFactory.getLogger("connstate.bench.discarded");
        if (!(discarded.getAppender() instanceof StdErrAppender appender))
            throw new IllegalStateException("Expected jetty-slf4j-impl's StdErrAppender, not " + discarded.getAppender());
        appender.setStream(new PrintStream(OutputStream.nullOutputStream(), false));
        queue = new QueuedListener("handoff", (conn, state) -> { }, ConnStateTracker.DEFAULT_QUEUE_CAPACITY, 1000);
        queue.start();
    }

    /** Names a jetty-slf4j-impl logger at {@code level}; fails if another SLF4J binding is on the class path. */
    private static String jettyLogger(String name, JettyLevel level)
    {
        if (!(LoggerFactory.getLogger(name) instanceof JettyLogger logger))
            throw new IllegalStateException("Expected jetty-slf4j-impl as the SLF4J binding, not " + LoggerFactory.getILoggerFactory());
        logger.setLevel(level);
        return name;
    }

    private ConnStateEvent nextEvent()
    {
        ConnStateEvent event = events[next];
        next = (next + 1) & (EVENTS - 1);
        return event;
    }

    /** The JSON Lines sink: a record formatted into its buffer, written out every 60 KB. */
    @Benchmark
    public void jsonl()
    {
        ConnStateEvent event = nextEvent();
        jsonl.onStateChange(event, event.state());
    }

    /**
     * @return the log sink's line (its default format), without a logger
     */
    @Benchmark
    public String logLine()
    {
        return logLine.line(nextEvent());
    }

    /** The log sink with its logger off: what it costs when the level filters it. */
    @Benchmark
    public void logOff()
    {
        ConnStateEvent event = nextEvent();
        logOff.onStateChange(event, event.state());
    }

    /** The log sink through jetty-slf4j-impl at INFO, its appender writing nowhere. */
    @Benchmark
    public void logDiscarded()
    {
        ConnStateEvent event = nextEvent();
        logDiscarded.onStateChange(event, event.state());
    }

    /**
     * The hand-off to a queued listener, on the reporting thread; its delivery thread (to a
     * listener that does nothing) runs beside it.
     */
    @Benchmark
    public void queuedHandOff()
    {
        ConnStateEvent event = nextEvent();
        queue.onStateChange(event, event.state());
    }

    @TearDown(Level.Trial)
    public void tearDown() throws Exception
    {
        queue.stop();
        jsonl.close();
        // Dropped events take a shorter path: the hand-off's figure holds only if none were.
        if (queue.getDelivered() + queue.getDropped() > 0)
        {
            System.out.println();
            System.out.println("[queue] " + queue.getDelivered() + " delivered, " + queue.getDropped() + " dropped, " + queue.getErrors() + " errors");
        }
    }
}
