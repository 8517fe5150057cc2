package dev.connstate.spring;

import org.springframework.boot.web.server.context.WebServerApplicationContext;
import org.springframework.context.SmartLifecycle;

/**
 * Stops the tracker as soon as Boot has stopped the web server, before Spring destroys the
 * application's beans: the queues deliver the last transitions (the connections the stop closed)
 * to the sinks and to the {@code ConnStateListener} beans while those still work, and the sinks
 * are closed. Jetty's server itself is destroyed only after the beans.
 */
public class TrackerStop implements SmartLifecycle
{
    /** Stopped right after Boot's web server. */
    public static final int PHASE = WebServerApplicationContext.START_STOP_LIFECYCLE_PHASE - 1;

    private final ConnStateServerCustomizer jetty;
    private volatile boolean running;

    /**
     * @param jetty the owner of the tracker
     */
    public TrackerStop(ConnStateServerCustomizer jetty)
    {
        this.jetty = jetty;
    }

    /** The tracker started with Jetty's server; after a stop of the context, it starts again. */
    @Override
    public void start()
    {
        running = true;
        if (!jetty.isTracking() || jetty.tracker().isRunning())
            return;
        try
        {
            jetty.tracker().start();
        }
        catch (Exception x)
        {
            throw new IllegalStateException("Could not start the connection state tracker again", x);
        }
    }

    /** Called by Spring on the thread closing the context, after the web server stopped. */
    @Override
    public void stop()
    {
        running = false;
        if (!jetty.isTracking())
            return;
        try
        {
            jetty.tracker().stop();
        }
        catch (Exception x)
        {
            throw new IllegalStateException("Could not stop the connection state tracker", x);
        }
    }

    @Override
    public boolean isRunning()
    {
        return running;
    }

    @Override
    public int getPhase()
    {
        return PHASE;
    }
}
