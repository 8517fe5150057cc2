package dev.connstate.config;

import dev.connstate.jetty.ConnStateTracker;
import dev.connstate.jetty.ConnStateStatusHandler;
import org.eclipse.jetty.server.Server;

/**
 * Puts the live connection table in front of a server's handler, once, when the server starts.
 *
 * <p>Jetty XML may set the server's handler after the module's XML ran, so the table goes in
 * when the server starts: after all XML, before any handler starts. A server started again keeps
 * the table it has.</p>
 */
final class StatusTableInstaller
{
    private final Server server;
    private final ConnStateTracker tracker;
    private ConnStateStatusHandler installed;

    /**
     * @param server the server whose handler to wrap
     * @param tracker the tracker whose table to serve
     */
    StatusTableInstaller(Server server, ConnStateTracker tracker)
    {
        this.server = server;
        this.tracker = tracker;
    }

    /**
     * Inserts the table if the settings name a path and it is not in place yet. Called when the
     * server starts, on the thread that starts it.
     *
     * @param settings the module's configuration
     * @return whether the table was inserted now
     */
    boolean install(ModuleSettings settings)
    {
        if (settings.statusPath().isEmpty() || (installed != null && server.getDescendant(ConnStateStatusHandler.class) == installed))
            return false;
        // The settings checked the path and the allow list: this cannot throw.
        ConnStateStatusHandler handler = new ConnStateStatusHandler(tracker, settings.statusPath(), settings.statusAllow());
        server.insertHandler(handler);
        installed = handler;
        return true;
    }
}
