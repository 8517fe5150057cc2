package dev.connstate.jetty;

import java.net.InetSocketAddress;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;

import dev.connstate.ConnState;
import dev.connstate.ConnStateEvent;
import dev.connstate.ConnStateListener;
import org.junit.jupiter.api.Test;

import static dev.connstate.Recorder.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

public class QueuedListenerTest
{
    private static ConnStateEvent event(long id)
    {
        return new ConnStateEvent(Instant.now(), id, new InetSocketAddress("127.0.0.1", 40000), new InetSocketAddress("127.0.0.1", 8080),
            "http/1.1", false, ConnState.NEW, null, 0, 0, 0, 0, null, null);
    }

    @Test
    public void deliveredAndDroppedAreCounted() throws Exception
    {
        CountDownLatch go = new CountDownLatch(1);
        ConnStateListener waiting = (conn, state) ->
        {
            try
            {
                go.await();
            }
            catch (InterruptedException x)
            {
                Thread.currentThread().interrupt();
            }
        };
        QueuedListener queue = new QueuedListener("counted", waiting, 4, 5000);
        queue.start();
        queue.onStateChange(event(1), ConnState.NEW);
        await("the first event taken", () -> queue.getQueued() == 0);
        // One is held by the listener, 4 wait, the rest is dropped.
        for (int id = 2; id <= 10; id++)
            queue.onStateChange(event(id), ConnState.NEW);
        assertEquals(4, queue.getQueued());
        assertEquals(5, queue.getDropped());
        go.countDown();
        await("all delivered", () -> queue.getDelivered() == 5);
        queue.stop();
        assertEquals(5, queue.getDelivered());
        assertEquals(5, queue.getDropped());
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
                // Ignores interrupts until released.
                while (true)
                {
                    try
                    {
                        release.await();
                        return;
                    }
                    catch (InterruptedException ignored)
                    {
                        // keep waiting
                    }
                }
            }
        };
        QueuedListener queue = new QueuedListener("stubborn", stubborn, 1000, 100);
        queue.start();
        queue.onStateChange(event(1), ConnState.NEW);
        await("the first event taken", () -> calls.size() == 1);
        queue.stop();
        assertEquals(1, queue.getDropped(), "the event the thread holds is lost");

        // Restarted, with the old thread still inside the listener: only the new thread delivers.
        queue.start();
        release.countDown();
        for (int id = 2; id <= 200; id++)
            queue.onStateChange(event(id), ConnState.NEW);
        await("all delivered", () -> queue.getDelivered() == 199);
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
}
