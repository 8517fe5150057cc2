package dev.connstate.config;

import java.util.function.Predicate;
import java.util.function.Supplier;

import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Server;

/**
 * Puts a handler that serves something of the tracker (the connection table, the Prometheus
 * metrics) in front of the server's handler, once.
 *
 * <p>Call it when the server starts, after all Jetty XML ran and before any handler starts: a
 * module's XML runs before the connectors and the web applications exist, and a later
 * {@code <Set name="handler">} would drop a handler inserted then. A server started again already
 * has it, and keeps it.</p>
 */
final class HandlerInsertion
{
    private HandlerInsertion()
    {
    }

    /**
     * @param server the server starting
     * @param type the handler's class
     * @param ours whether a handler of that class already in the tree is this one (same tracker)
     * @param make makes the handler, if none is ours
     * @return whether it inserted one
     */
    static <H extends Handler.Wrapper> boolean insertOnce(Server server, Class<H> type, Predicate<? super H> ours, Supplier<? extends H> make)
    {
        for (H handler : server.getDescendants(type))
        {
            if (ours.test(handler))
                return false;
        }
        server.insertHandler(make.get());
        return true;
    }
}
