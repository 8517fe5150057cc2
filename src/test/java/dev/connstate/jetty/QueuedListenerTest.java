package dev.connstate.jetty;

import java.net.InetSocketAddress;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import dev.connstate.ConnState;
import dev.connstate.ConnStateEvent;
import dev.connstate.ConnStateListener;
import dev.connstate.Wait;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

public class QueuedListenerTest
{
    private static ConnStateEvent event(long id)
    {
        return event(id, 0);
    }

    private static ConnStateEvent event(long id, long requests)
    {
        return new ConnStateEvent(Instant.now(), id, new InetSocketAddress("127.0.0.1", 40000), new InetSocketAddress("127.0.0.1", 8080),
            "http/1.1", false, ConnState.NEW, null, 0, requests, 0, 0, -1, null, false, null);
    }

    @Test
    public void concurrentProducersKeepTheirOrderAndLoseNothing() throws Exception
    {
        int producers = 4;
        int perProducer = 50_000;
        long[] last = new long[producers];
        java.util.Arrays.fill(last, -1);
        java.util.concurrent.atomic.AtomicInteger outOfOrder = new java.util.concurrent.atomic.AtomicInteger();
        // The delivery thread is the only caller: plain arrays are enough.
        ConnStateListener checking = (conn, state) ->
        {
            int producer = (int)conn.id();
            if (conn.requests() != last[producer] + 1)
                outOfOrder.incrementAndGet();
            last[producer] = conn.requests();
        };
        // A small ring, so that it wraps around hundreds of times.
        QueuedListener queue = new QueuedListener("ordered", checking, 1024, 5000);
        queue.start();
        CountDownLatch start = new CountDownLatch(1);
        // A delivery thread that stalls must fail the test, not leave producers spinning.
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        List<String> stalled = new CopyOnWriteArrayList<>();
        List<Thread> threads = new java.util.ArrayList<>();
        for (int p = 0; p < producers; p++)
        {
            int producer = p;
            Thread t = new Thread(() ->
            {
                try
                {
                    start.await();
                }
                catch (InterruptedException x)
                {
                    return;
                }
                for (int i = 0; i < perProducer; i++)
                {
                    // Kept below the capacity, so that nothing is dropped: each event must arrive.
                    while (queue.getQueued() > 512)
                    {
                        if (System.nanoTime() - deadline > 0)
                        {
                            stalled.add("producer " + producer + " at event " + i + ", " + queue.getQueued() + " queued");
                            return;
                        }
                        Thread.onSpinWait();
                    }
                    queue.onStateChange(event(producer, i), ConnState.NEW);
                }
            });
            threads.add(t);
            t.start();
        }
        start.countDown();
        for (Thread t : threads)
        {
            t.join(TimeUnit.NANOSECONDS.toMillis(Math.max(1, deadline - System.nanoTime())) + 1000);
            assertFalse(t.isAlive(), "a producer still running");
        }
        assertEquals(List.of(), stalled, "producers that gave up waiting for room");
        Wait.until("all delivered", () -> queue.getQueued() == 0 && queue.getDelivered() == producers * (long)perProducer);
        queue.stop();
        assertEquals(0, queue.getDropped());
        assertEquals(0, outOfOrder.get());
        for (int p = 0; p < producers; p++)
            assertEquals(perProducer - 1, last[p]);
    }

    @Test
    public void deliveredAndDroppedAreCounted() throws Exception
    {
        // Capacities that are and are not powers of two: the ring rounds its size up, the bound stays exact.
        for (int capacity : new int[]{1, 3, 4, 5, 8})
        {
            CountDownLatch go = new CountDownLatch(1);
            List<Long> ids = new CopyOnWriteArrayList<>();
            ConnStateListener waiting = (conn, state) ->
            {
                ids.add(conn.id());
                try
                {
                    go.await();
                }
                catch (InterruptedException x)
                {
                    Thread.currentThread().interrupt();
                }
            };
            QueuedListener queue = new QueuedListener("counted", waiting, capacity, 5000);
            queue.start();
            queue.onStateChange(event(1), ConnState.NEW);
            Wait.until("the first event taken", () -> queue.getQueued() == 0);
            // One is held by the listener, capacity wait, the rest is dropped.
            for (int id = 2; id <= 10; id++)
                queue.onStateChange(event(id), ConnState.NEW);
            assertEquals(capacity, queue.getQueued(), "capacity " + capacity);
            assertEquals(9 - capacity, queue.getDropped(), "capacity " + capacity);
            go.countDown();
            Wait.until("all delivered", () -> queue.getDelivered() == 1 + capacity);
            queue.stop();
            assertEquals(1 + capacity, queue.getDelivered(), "capacity " + capacity);
            assertEquals(9 - capacity, queue.getDropped(), "capacity " + capacity);
            // The first ones, in order; the later ones were dropped.
            assertEquals(java.util.stream.LongStream.rangeClosed(1, 1 + capacity).boxed().toList(), ids, "capacity " + capacity);
        }
    }

    @Test
    public void aThreadGivenUpOnTakesNoMoreEvents() throws Exception
    {
        CountDownLatch release = new CountDownLatch(1);
        List<Thread> threads = new CopyOnWriteArrayList<>();
        List<Long> calls = new CopyOnWriteArrayList<>();
        ConnStateListener stubborn = (conn, state) ->
        {
            threads.add(Thread.currentThread());
            calls.add(conn.id());
            if (conn.id() == 1)
            {
                // Ignores interrupts until released (or, if the test failed before releasing it, for 60 s).
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
                while (System.nanoTime() - deadline < 0)
                {
                    try
                    {
                        if (release.await(deadline - System.nanoTime(), TimeUnit.NANOSECONDS))
                            return;
                    }
                    catch (InterruptedException ignored)
                    {
                        // The queue gave up on this thread: keep waiting, as a stubborn listener does.
                    }
                }
            }
        };
        QueuedListener queue = new QueuedListener("stubborn", stubborn, 1000, 100);
        queue.start();
        queue.onStateChange(event(1), ConnState.NEW);
        Wait.until("the first event taken", () -> calls.size() == 1);
        queue.stop();
        assertEquals(1, queue.getDropped(), "the event the thread holds is lost");

        // Restarted, with the old thread still inside the listener: only the new thread delivers.
        queue.start();
        release.countDown();
        for (int id = 2; id <= 200; id++)
            queue.onStateChange(event(id), ConnState.NEW);
        Wait.until("all delivered", () -> queue.getDelivered() == 199);
        queue.stop();
        assertEquals(200, calls.size());
        for (int i = 1; i < calls.size(); i++)
        {
            assertEquals(i + 1, calls.get(i));
            assertEquals(threads.get(1), threads.get(i));
        }
        assertTrue(threads.get(0) != threads.get(1), "delivered by the new thread");
        assertEquals(199, queue.getDelivered());
        assertEquals(1, queue.getDropped());
    }

    /** Records its events and flushes. */
    private static final class Flushed implements ConnStateListener, java.io.Flushable
    {
        final List<String> calls = new CopyOnWriteArrayList<>();

        @Override
        public void onStateChange(dev.connstate.ConnInfo conn, ConnState state)
        {
            calls.add("event " + conn.id());
        }

        @Override
        public void flush()
        {
            calls.add("flush");
        }
    }

    @Test
    public void flushedOnceEverythingIsDelivered() throws Exception
    {
        Flushed listener = new Flushed();
        QueuedListener queue = new QueuedListener("flushed", listener, 1000, 5000);
        queue.start();
        // Quiet: one event, delivered and flushed without waiting for another.
        queue.onStateChange(event(1), ConnState.NEW);
        Wait.until("the first flush", () -> listener.calls.contains("flush"));
        assertEquals(List.of("event 1", "flush"), listener.calls);
        // A burst: every event, then a flush, with no new event needed to bring it about.
        for (int id = 2; id <= 300; id++)
            queue.onStateChange(event(id), ConnState.NEW);
        Wait.until("the events flushed", () -> listener.calls.size() >= 2 && listener.calls.get(listener.calls.size() - 1).equals("flush")
            && listener.calls.contains("event 300"));
        int event = 0;
        for (String call : listener.calls)
        {
            if (call.startsWith("event "))
                assertEquals("event " + ++event, call);
        }
        assertEquals(300, event);
        queue.stop();
    }
}
