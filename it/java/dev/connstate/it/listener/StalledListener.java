package dev.connstate.it.listener;

import java.util.concurrent.CountDownLatch;

import dev.connstate.ConnInfo;
import dev.connstate.ConnState;
import dev.connstate.ConnStateListener;

/**
 * A user listener that never returns from its first event until its queue interrupts it at stop:
 * inside the real distribution (jetty.connstate.listeners), with a queue of 1, it makes the
 * listener drops that {@code jetty.connstate.listener.dropped} counts.
 */
public class StalledListener implements ConnStateListener
{
    private final CountDownLatch never = new CountDownLatch(1);

    @Override
    public void onStateChange(ConnInfo conn, ConnState state)
    {
        try
        {
            never.await();
        }
        catch (InterruptedException x)
        {
            Thread.currentThread().interrupt();
        }
    }
}
