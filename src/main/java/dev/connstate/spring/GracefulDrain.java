package dev.connstate.spring;

import java.time.Duration;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import dev.connstate.jetty.ConnStateTracker;
import dev.connstate.jetty.ConnectionDrain;
import org.springframework.boot.web.server.context.WebServerApplicationContext;
import org.springframework.context.SmartLifecycle;

/**
 * Drains the connections by their state ({@link ConnectionDrain}: idle ones closed at once, those
 * in flight closed after their response with {@code Connection: close}, HTTP/2 told GOAWAY) when
 * Boot's graceful shutdown begins ({@code server.shutdown=graceful}), within
 * {@code spring.lifecycle.timeout-per-shutdown-phase}.
 *
 * <p>Boot's own graceful shutdown of Jetty ({@code GracefulShutdown}) shuts the connectors down
 * and waits for the requests in flight, leaving idle connections to Jetty's idle timeouts. This
 * runs in the phase just before it: the drain stops the connectors from accepting and closes
 * every connection, at the latest at the timeout, so Boot's phase that follows finds nothing
 * left to wait for.</p>
 */
public class GracefulDrain implements SmartLifecycle
{
    /** Stopped first of all that stop before Boot's graceful shutdown of the web server. */
    public static final int PHASE = WebServerApplicationContext.GRACEFUL_SHUTDOWN_PHASE + 1;

    private final ConnStateServerCustomizer jetty;
    private final Duration timeout;
    private volatile boolean running;

    /**
     * @param jetty the owner of the tracker
     * @param timeout {@code spring.lifecycle.timeout-per-shutdown-phase}: what is still open then is closed
     */
    public GracefulDrain(ConnStateServerCustomizer jetty, Duration timeout)
    {
        this.jetty = jetty;
        this.timeout = timeout;
    }

    @Override
    public void start()
    {
        running = true;
    }

    /**
     * Called by Spring when the application context stops or closes, on the thread closing it,
     * before Boot's graceful shutdown; {@code callback} runs once no connection is left, on the
     * drain's own thread (or on this one if there was none).
     */
    @Override
    public void stop(Runnable callback)
    {
        running = false;
        if (!jetty.isTracking())
        {
            callback.run();
            return;
        }
        ConnStateTracker tracker = jetty.tracker();
        tracker.drain(timeout.toMillis()).whenComplete((done, failure) -> callback.run());
    }

    @Override
    public void stop()
    {
        running = false;
        if (!jetty.isTracking())
            return;
        try
        {
            jetty.tracker().drain(timeout.toMillis()).get(timeout.toMillis() + 1000, TimeUnit.MILLISECONDS);
        }
        catch (InterruptedException x)
        {
            Thread.currentThread().interrupt();
        }
        catch (ExecutionException | TimeoutException x)
        {
            // The drain closed what it could by its deadline; the web server's stop closes the rest.
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

    @Override
    public boolean isPauseable()
    {
        // As Boot's graceful shutdown: a drain cannot be undone.
        return false;
    }
}
