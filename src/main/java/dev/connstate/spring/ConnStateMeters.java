package dev.connstate.spring;

import dev.connstate.micrometer.ConnStateMeterBinder;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.MeterBinder;

/**
 * Binds the tracker's connection metrics ({@link ConnStateMeterBinder}:
 * {@code http.server.open_connections} by {@code http.connection.state}, and the rest) to every
 * {@link MeterRegistry} that Boot binds its meter binders to, beside Boot's own Jetty metrics.
 *
 * <p>Boot binds its binders once the application's beans exist, by then its Jetty server and so
 * the tracker do too; a registry bound earlier is bound to the tracker as soon as it exists.</p>
 */
public class ConnStateMeters implements MeterBinder, AutoCloseable
{
    private final ConnStateServerCustomizer jetty;
    private ConnStateMeterBinder binder;

    /**
     * @param jetty the owner of the tracker
     */
    public ConnStateMeters(ConnStateServerCustomizer jetty)
    {
        this.jetty = jetty;
    }

    @Override
    public void bindTo(MeterRegistry registry)
    {
        jetty.whenTracking(tracker -> binder().bindTo(registry));
    }

    private synchronized ConnStateMeterBinder binder()
    {
        if (binder == null)
            binder = new ConnStateMeterBinder(jetty.tracker());
        return binder;
    }

    /** Called by Spring when the context closes: stops recording and removes the meters. */
    @Override
    public synchronized void close()
    {
        if (binder != null)
            binder.close();
        binder = null;
    }
}
