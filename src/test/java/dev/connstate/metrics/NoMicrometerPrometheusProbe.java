package dev.connstate.metrics;

import java.util.concurrent.Callable;

import dev.connstate.config.ConnStateConfigurationException;
import dev.connstate.config.ConnStateModule;
import dev.connstate.config.ConnStatePrometheusModule;
import org.eclipse.jetty.server.Server;

/**
 * Run inside {@link WithoutMetricsLibraries}: a server with the {@code connstate} and
 * {@code connstate-prometheus} modules' beans, as their XML makes them, starts; returns what happened, as text.
 */
public class NoMicrometerPrometheusProbe implements Callable<String>
{
    @Override
    public String call() throws Exception
    {
        Server server = dev.connstate.TrackedServer.helloServer();
        ConnStateModule module = new ConnStateModule(server);
        server.addBean(module);
        server.addBean(new ConnStatePrometheusModule(server, module));
        try
        {
            server.start();
            return "started";
        }
        catch (ConnStateConfigurationException x)
        {
            return "refused: " + x.getMessage();
        }
        finally
        {
            server.stop();
        }
    }
}
