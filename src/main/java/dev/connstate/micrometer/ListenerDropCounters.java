package dev.connstate.micrometer;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import dev.connstate.jetty.ConnStateTracker;
import dev.connstate.jetty.QueuedListener;
import dev.connstate.metrics.Instruments;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import org.eclipse.jetty.util.annotation.ManagedObject;
import org.eclipse.jetty.util.component.Container;

/**
 * The counters {@code jetty.connstate.listener.dropped} of one registry, one per queued sink or
 * listener of the tracker, made when the queue is added (or at once for those already there)
 * and removed with it: each reads {@link QueuedListener#getDropped()} when scraped, so a drop
 * costs nothing more than the queue's own count.
 *
 * <p>Jetty keeps a container's event listener among its beans: this one shows in the tracker's
 * dump, and in JMX with the jmx module.</p>
 */
@ManagedObject("Counts, in a Micrometer registry, the events each queued listener of the tracker dropped")
final class ListenerDropCounters implements Container.Listener
{
    private final ConnStateTracker tracker;
    private final MeterRegistry registry;
    private final Tags tags;
    private final Map<QueuedListener, FunctionCounter> counters = new ConcurrentHashMap<>();

    private ListenerDropCounters(ConnStateTracker tracker, MeterRegistry registry, Tags tags)
    {
        this.tracker = tracker;
        this.registry = registry;
        this.tags = tags;
    }

    /** Makes a counter for every queue of {@code tracker} now and later, until {@link #remove()}. */
    static ListenerDropCounters watch(ConnStateTracker tracker, MeterRegistry registry, Tags tags)
    {
        ListenerDropCounters counters = new ListenerDropCounters(tracker, registry, tags);
        // Jetty calls beanAdded for every bean the tracker has already, then for each added later.
        tracker.addEventListener(counters);
        return counters;
    }

    @Override
    public void beanAdded(Container parent, Object child)
    {
        if (child instanceof QueuedListener queue)
        {
            counters.computeIfAbsent(queue, q -> FunctionCounter.builder(Instruments.LISTENER_DROPPED, q, QueuedListener::getDropped)
                .description(Instruments.LISTENER_DROPPED_DESCRIPTION)
                .tags(tags)
                .tag(Instruments.LISTENER_NAME, q.getName())
                .register(registry));
        }
    }

    @Override
    public void beanRemoved(Container parent, Object child)
    {
        FunctionCounter counter = child instanceof QueuedListener queue ? counters.remove(queue) : null;
        if (counter != null)
            registry.remove(counter);
    }

    /** In the tracker's dump, where Jetty lists it among its beans. */
    @Override
    public String toString()
    {
        return String.format("%s@%x[%s,%d queues]", getClass().getSimpleName(), hashCode(), Instruments.LISTENER_DROPPED, counters.size());
    }

    /** Stops watching the tracker, and removes the counters from the registry. */
    void remove()
    {
        tracker.removeEventListener(this);
        counters.values().forEach(registry::remove);
        counters.clear();
    }
}
