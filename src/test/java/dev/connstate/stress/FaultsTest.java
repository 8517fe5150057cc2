package dev.connstate.stress;

import java.io.Closeable;
import java.net.Socket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

import dev.connstate.ConnInfo;
import dev.connstate.ConnState;
import dev.connstate.ConnStateListener;
import dev.connstate.Raw;
import dev.connstate.Recorder;
import dev.connstate.TrackedServer;
import dev.connstate.Wait;
import dev.connstate.config.ConnStateModule;
import dev.connstate.jetty.ConnStateTracker;
import dev.connstate.jetty.QueuedListener;
import dev.connstate.sink.JsonLinesSink;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Faults while the stress mix runs: sinks that throw, block or are slow change nothing for the
 * server nor for a healthy sink, and what they lose is counted; stopping and starting (the same
 * server, and new ones) leaves no thread, queue, hook or entry behind, and every sink is
 * flushed and closed on stop.
 */
public class FaultsTest
{
    @TempDir
    Path dir;

    @Test
    @Timeout(value = 5, unit = TimeUnit.MINUTES)
    public void faultySinksDuringTheMix() throws Exception
    {
        long seed = StressTest.seed();
        int total = Integer.getInteger("connstate.faults.connections", 2000);
        MixServer mix = new MixServer();
        ConnStateTracker tracker = mix.tracker;
        tracker.setDeliveryTimeoutMillis(500);

        AtomicLong thrown = new AtomicLong();
        ConnStateListener throwing = (conn, state) ->
        {
            thrown.incrementAndGet();
            throw new IllegalStateException("a sink that always throws");
        };
        CountDownLatch never = new CountDownLatch(1);
        // Blocks until the queue gives up on it at stop (interrupt).
        ConnStateListener blocking = Recorder.blockingUntilInterrupted(never);
        ConnStateListener slow = (conn, state) -> LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(2));
        Recorder healthy = new Recorder();
        Path jsonl = dir.resolve("faults.jsonl");
        JsonLinesSink jsonlSink = new JsonLinesSink(jsonl);

        QueuedListener throwingQueue = tracker.addListener("throwing", throwing, 65536);
        QueuedListener blockingQueue = tracker.addListener("blocking", blocking, 64);
        QueuedListener slowQueue = tracker.addListener("slow", slow, 256);
        QueuedListener healthyQueue = tracker.addListener("healthy", healthy, 1 << 17);
        QueuedListener jsonlQueue = tracker.addListener("jsonl", jsonlSink, 1 << 17);
        List<QueuedListener> queues = List.of(throwingQueue, blockingQueue, slowQueue, healthyQueue, jsonlQueue);
        // An inline listener that throws is counted, never thrown into Jetty.
        AtomicLong inlineCalls = new AtomicLong();
        tracker.addInlineListener((conn, state) ->
        {
            inlineCalls.incrementAndGet();
            throw new IllegalStateException("an inline listener that always throws");
        });
        mix.start();

        StressClient.Result result;
        try (StressClient client = new StressClient(mix, 24))
        {
            result = client.run(seed, total, 300, Duration.ofMinutes(2));
            // The server kept serving: every behaviour completed, every sequence is exact.
            StressTest.check("faults", result, mix);
        }
        long events = mix.recorder.eventCount();
        assertEquals(events, inlineCalls.get());
        assertEquals(events, tracker.getListenerErrors(), "inline listener errors counted");

        // The healthy queued sink saw exactly what the inline recorder saw.
        Wait.until("the healthy queued sink", Duration.ofSeconds(30), () -> healthy.connectionCount() == mix.recorder.connectionCount() && healthy.allTerminated());
        Map<Long, Recorder.Connection> inline = mix.recorder.connections();
        Map<Long, Recorder.Connection> queued = healthy.connections();
        assertEquals(inline.keySet(), queued.keySet());
        int different = 0;
        for (Map.Entry<Long, Recorder.Connection> e : inline.entrySet())
        {
            if (!e.getValue().states().equals(queued.get(e.getKey()).states()))
                different++;
        }
        assertEquals(0, different, "sequences of the healthy queued sink that differ from the inline ones");
        assertEquals(List.of(), healthy.violations());
        assertEquals(0, healthyQueue.getDropped());
        Wait.until("the throwing sink to take every event", Duration.ofSeconds(30), () -> throwingQueue.getErrors() + throwingQueue.getDropped() == events);
        assertTrue(blockingQueue.getDropped() >= events - 64 - 1, "blocking sink dropped " + blockingQueue.getDropped() + " of " + events);
        assertTrue(slowQueue.getDropped() > 0, "the slow sink dropped nothing: not slow enough to test anything");

        long stopStart = System.nanoTime();
        mix.server.stop();
        long stopMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - stopStart);
        // Each stuck queue gets the drain time (500 ms) and a second after the interrupt, no more.
        assertTrue(stopMs < 10_000, "stop took " + stopMs + " ms");

        // Nothing lost silently: every event was delivered, failed in the listener, or dropped.
        for (QueuedListener q : queues)
            assertEquals(events, q.getDelivered() + q.getErrors() + q.getDropped(), q.getName() + ": delivered + errors + dropped = events");
        assertEquals(thrown.get(), throwingQueue.getErrors());
        assertEquals(events, healthyQueue.getDelivered());
        assertEquals(events, jsonlQueue.getDelivered());
        System.out.printf("[faults] events=%d stop=%d ms %s%n", events, stopMs, queues);

        // The jsonl sink was flushed and closed: every connection's lines, terminal last.
        Map<Long, List<String>> lines = JsonLinesCheck.read(jsonl);
        assertEquals(inline.keySet(), lines.keySet());
        assertEquals(List.of(), JsonLinesCheck.incomplete(lines));
        for (Map.Entry<Long, Recorder.Connection> e : inline.entrySet())
            assertEquals(e.getValue().states().stream().map(ConnState::toString).toList(), lines.get(e.getKey()), "#" + e.getKey());
        assertNoConnStateThreads();
    }

    // ---- stop and start ----

    /** A listener that counts and knows whether it was closed (made by the module from its class name). */
    public static class ClosingListener implements ConnStateListener, Closeable
    {
        static final List<ClosingListener> MADE = new java.util.concurrent.CopyOnWriteArrayList<>();
        final AtomicLong events = new AtomicLong();
        volatile boolean closed;

        public ClosingListener()
        {
            MADE.add(this);
        }

        @Override
        public void onStateChange(ConnInfo conn, ConnState state)
        {
            if (closed)
                throw new IllegalStateException("called after close");
            events.incrementAndGet();
        }

        @Override
        public void close()
        {
            closed = true;
        }
    }

    @Test
    @Timeout(value = 3, unit = TimeUnit.MINUTES)
    public void stopAndStartTheSameServerAndNewOnes() throws Exception
    {
        Path jsonl = dir.resolve("logs/connstate.jsonl");
        ClosingListener.MADE.clear();
        int baseline = connStateThreads().size();
        long lines = 0;
        // Three cycles of one server object, then three new servers: same checks each time.
        Server same = null;
        for (int cycle = 0; cycle < 6; cycle++)
        {
            Server server;
            if (cycle < 3)
            {
                if (same == null)
                    same = newServer();
                server = same;
            }
            else
            {
                server = newServer();
            }
            lines += cycle(server, cycle, jsonl, lines);
        }
        assertEquals(6, ClosingListener.MADE.size(), "one listener per start");
        for (ClosingListener listener : ClosingListener.MADE)
            assertTrue(listener.closed, "a listener was not closed at stop");
        assertEquals(baseline, connStateThreads().size());
    }

    private Server newServer()
    {
        Server server = new Server();
        ServerConnector connector = new ServerConnector(server, 1, 1, new HttpConnectionFactory(new HttpConfiguration()));
        connector.setHost("127.0.0.1");
        server.addConnector(connector);
        server.setHandler(new TrackedServer.Hello());
        ConnStateModule module = new ConnStateModule(server);
        module.setBaseDirectory(dir.toString());
        module.setSinks("jsonl");
        module.setListeners(ClosingListener.class.getName());
        server.addBean(module);
        return server;
    }

    /**
     * Starts, serves finished connections and leaves others open (idle, new, in the middle of a
     * request head), stops; then checks that nothing is left and the file is complete.
     *
     * @return the lines this cycle added to the file
     */
    private long cycle(Server server, int cycle, Path jsonl, long linesBefore) throws Exception
    {
        ConnStateModule module = server.getBean(ConnStateModule.class);
        ConnStateTracker tracker = module.getTracker();
        ServerConnector connector = (ServerConnector)server.getConnectors()[0];
        HttpConfiguration config = connector.getConnectionFactory(HttpConnectionFactory.class).getHttpConfiguration();
        int customizersBefore = config.getCustomizers().size();
        int listenersBefore = connector.getEventListeners().size();
        server.start();
        long openedBefore = tracker.getOpenedTotal();
        int port = connector.getLocalPort();
        List<Socket> leftOpen = new ArrayList<>();
        int finished = 20;
        try
        {
            for (int i = 0; i < finished; i++)
            {
                try (Socket socket = Raw.connect(port))
                {
                    get(socket);
                    get(socket);
                }
            }
            // Left open at stop: idle after a request, new without a byte, in the middle of a request head.
            for (int i = 0; i < 5; i++)
            {
                Socket idle = Raw.connect(port);
                get(idle);
                leftOpen.add(idle);
                leftOpen.add(Raw.connect(port));
                Socket partial = Raw.connect(port);
                Raw.write(partial, "GET / HTTP/1.1\r\nHo");
                leftOpen.add(partial);
            }
            int expected = finished + leftOpen.size();
            Wait.until("all connections opened", () -> tracker.getOpenedTotal() - openedBefore == expected);
            // The partial heads must have been read when the stop comes (bytes still in the
            // socket were never read: new, closed): the 5 idle and the 5 partial connections.
            Wait.until("the partial heads read", () -> connector.getConnectedEndPoints().stream()
                .filter(e -> e.getConnection() != null && e.getConnection().getBytesIn() > 0).count() == 10);
        }
        finally
        {
            server.stop();
            for (Socket s : leftOpen)
                s.close();
        }
        long opened = tracker.getOpenedTotal() - openedBefore;
        assertEquals(finished + 15, opened, "cycle " + cycle);
        assertEquals(0, tracker.getTrackedConnections(), "cycle " + cycle + ": entries left");
        assertEquals(0, tracker.getNewConnections() + tracker.getActiveConnections() + tracker.getIdleConnections(), "cycle " + cycle + ": gauges");
        assertEquals(tracker.getOpenedTotal(), tracker.getClosedTotal() + tracker.getHijackedTotal(), "cycle " + cycle);
        assertEquals(0, tracker.getIllegalTransitions());
        assertEquals(0, tracker.getInternalErrors());
        assertEquals(List.of(), tracker.getQueuedListeners(), "cycle " + cycle + ": queues left");
        assertEquals(customizersBefore, config.getCustomizers().size(), "cycle " + cycle + ": customizers left on the HttpConfiguration");
        assertEquals(listenersBefore, connector.getEventListeners().size(), "cycle " + cycle + ": listeners left on the connector");
        assertNoConnStateThreads();
        ClosingListener listener = ClosingListener.MADE.get(ClosingListener.MADE.size() - 1);
        assertTrue(listener.closed, "cycle " + cycle + ": listener not closed at stop");

        // Every connection of this cycle is in the file, ended; the file was flushed at stop.
        Map<Long, List<String>> byId = JsonLinesCheck.read(jsonl);
        List<Long> ids = new ArrayList<>(byId.keySet());
        long lines = byId.values().stream().mapToLong(List::size).sum() - linesBefore;
        Map<Long, List<String>> thisCycle = new java.util.LinkedHashMap<>();
        for (Long id : ids.subList(ids.size() - (int)opened, ids.size()))
            thisCycle.put(id, byId.get(id));
        assertEquals(List.of(), JsonLinesCheck.incomplete(byId), "cycle " + cycle);
        // Exactly: the finished ones, then those the stop closed (idle, new, in the middle of a head).
        Map<List<String>, Long> sequences = new java.util.TreeMap<>(java.util.Comparator.comparing(Object::toString));
        thisCycle.values().forEach(seq -> sequences.merge(seq, 1L, Long::sum));
        Map<List<String>, Long> expectedSequences = new java.util.TreeMap<>(java.util.Comparator.comparing(Object::toString));
        expectedSequences.put(List.of("new", "active", "idle", "active", "idle", "closed"), (long)finished);
        expectedSequences.put(List.of("new", "active", "idle", "closed"), 5L);
        expectedSequences.put(List.of("new", "closed"), 5L);
        expectedSequences.put(List.of("new", "active", "closed"), 5L);
        assertEquals(expectedSequences, sequences, "cycle " + cycle);
        assertEquals(listener.events.get(), lines, "cycle " + cycle + ": the listener and the file saw the same events");
        return lines;
    }

    private static void get(Socket socket) throws Exception
    {
        Raw.write(socket, "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n");
        Raw.Response response = Raw.read(socket.getInputStream());
        assertEquals(200, response.status(), response.head());
    }

    static List<String> connStateThreads()
    {
        List<String> names = new ArrayList<>();
        for (Thread t : Thread.getAllStackTraces().keySet())
        {
            if (t.isAlive() && t.getName().startsWith("connstate-"))
                names.add(t.getName());
        }
        return names;
    }

    static void assertNoConnStateThreads()
    {
        Wait.until("connstate-* threads to end", Duration.ofSeconds(10), FaultsTest::connStateThreads, List::isEmpty);
    }
}
