package dev.connstate.jetty;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import javax.management.MBeanServer;
import javax.management.MBeanServerFactory;
import javax.management.ObjectName;

import dev.connstate.ConnState;
import dev.connstate.ConnStateListener;
import dev.connstate.RawClient;
import dev.connstate.Recorder;
import dev.connstate.TrackedServer;
import dev.connstate.Wait;
import org.eclipse.jetty.jmx.MBeanContainer;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Sinks that block forever, throw on every event or are slow change nothing for the server
 * nor for the other sinks; what they lose is counted.
 */
public class DeliveryTest
{
    private static final int CONNECTIONS = 20;
    private static final int REQUESTS = 5;

    @Test
    public void aQueuedListenerAddedToARunningTrackerGetsEvents() throws Exception
    {
        try (TrackedServer s = new TrackedServer().start())
        {
            Recorder late = new Recorder();
            QueuedListener queue = s.tracker.addListener("late", late, 64);
            assertTrue(queue.isRunning(), "started with the running tracker");
            RawClient client = s.connect();
            client.send("GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n").expect(200);
            client.readToEnd();
            client.close();
            List<ConnState> expected = Recorder.seq("new", "active", "closed");
            assertEquals(expected, client.awaitEnd());
            Wait.until("the late listener to get the whole sequence", () -> late.sequence(client.id()).equals(expected));
            assertEquals(0, queue.getDropped());

            // Removed while running: its queue stops.
            assertTrue(s.tracker.removeListener(late));
            assertTrue(queue.isStopped());
        }
    }

    @Test
    public void badSinksHurtNobody() throws Exception
    {
        CountDownLatch never = new CountDownLatch(1);
        ConnStateListener blocking = Recorder.blockingUntilInterrupted(never);
        AtomicLong thrown = new AtomicLong();
        ConnStateListener throwing = (conn, state) ->
        {
            thrown.incrementAndGet();
            throw new IllegalStateException("boom");
        };
        ConnStateListener slow = (conn, state) -> LockSupportPark.millis(50);
        Recorder queuedHealthy = new Recorder();
        ConnStateListener throwingInline = (conn, state) ->
        {
            throw new IllegalStateException("inline boom");
        };

        // A real MBeanServer of its own: the platform one outlives the tests that register in it.
        MBeanServer mbeans = MBeanServerFactory.newMBeanServer();
        TrackedServer s = new TrackedServer();
        s.server.addBean(new MBeanContainer(mbeans));
        s.tracker.setDeliveryTimeoutMillis(300);
        QueuedListener blockingQueue = s.tracker.addListener("blocking", blocking, 16);
        QueuedListener throwingQueue = s.tracker.addListener("throwing", throwing, 100_000);
        QueuedListener slowQueue = s.tracker.addListener("slow", slow, 16);
        QueuedListener healthyQueue = s.tracker.addListener("healthy", queuedHealthy, 100_000);
        s.tracker.addInlineListener(throwingInline);
        s.start();

        long start = System.nanoTime();
        List<Integer> ports = new ArrayList<>();
        for (int c = 0; c < CONNECTIONS; c++)
        {
            try (RawClient client = s.connect())
            {
                ports.add(client.port());
                for (int r = 0; r < REQUESTS; r++)
                {
                    client.send("GET / HTTP/1.1\r\nHost: localhost\r\n\r\n");
                    assertEquals("hello", client.read().text());
                }
            }
        }
        long elapsedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        // 100 requests take well under a second here; a stalled server would take forever.
        assertTrue(elapsedMs < 10_000, "requests took " + elapsedMs + " ms");

        List<ConnState> expected = Recorder.keepAlive(REQUESTS);
        for (int port : ports)
            assertEquals(expected, s.recorder.awaitEnd(port));
        int events = CONNECTIONS * expected.size();
        assertEquals(CONNECTIONS, queuedHealthy.awaitAllEnded(CONNECTIONS).size(), "connections the healthy queued sink saw");
        for (int port : ports)
            assertEquals(expected, queuedHealthy.sequence(s.recorder.idOfClientPort(port)));
        assertEquals(List.of(), queuedHealthy.violations());
        Wait.until("every event thrown on", () -> thrown.get() == events);

        Set<ObjectName> names = mbeans.queryNames(new ObjectName("dev.connstate.jetty:type=queuedlistener,*"), null);
        assertEquals(4, names.size(), names.toString());
        assertEquals((long)events, throwingQueue.getErrors());
        assertEquals((long)events, s.tracker.getListenerErrors());
        assertTrue(blockingQueue.getDropped() >= events - 16 - 1, "blocking dropped " + blockingQueue.getDropped());
        assertTrue(slowQueue.getDropped() > 0, "slow dropped " + slowQueue.getDropped());
        assertEquals(0, healthyQueue.getDropped());
        for (ObjectName name : names)
        {
            String listener = (String)mbeans.getAttribute(name, "name");
            QueuedListener queue = listener.startsWith("blocking") ? blockingQueue : listener.startsWith("throwing") ? throwingQueue
                : listener.startsWith("slow") ? slowQueue : healthyQueue;
            assertEquals(queue.getDropped(), mbeans.getAttribute(name, "dropped"), listener);
            assertEquals(queue.getErrors(), mbeans.getAttribute(name, "errors"), listener);
        }

        // Stopping does not hang on the blocked sink: it gives up after the drain time.
        long stopStart = System.nanoTime();
        s.close();
        long stopMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - stopStart);
        assertTrue(stopMs < 5_000, "stop took " + stopMs + " ms");
        // Nothing is lost silently: every event was delivered or counted as dropped.
        assertEquals(events, blockingQueue.getDropped() + blockingQueue.getDelivered());
    }

    /** A slow sink: parks its own delivery thread, never a Jetty thread. */
    private static final class LockSupportPark
    {
        static void millis(long ms)
        {
            java.util.concurrent.locks.LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(ms));
        }
    }
}
