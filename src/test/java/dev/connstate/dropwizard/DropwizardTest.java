package dev.connstate.dropwizard;

import java.nio.file.Files;

import dev.connstate.CloseReason;
import dev.connstate.Raw;
import dev.connstate.RawClient;
import dev.connstate.Recorder;
import dev.connstate.Wait;
import dev.connstate.jetty.ConnStateTracker;
import io.dropwizard.core.Configuration;
import io.dropwizard.core.setup.Environment;
import org.eclipse.jetty.server.NetworkConnector;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.handler.GracefulHandler;
import org.eclipse.jetty.util.component.LifeCycle;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * A real Dropwizard 5 application, started as its {@code server} command starts it, with the
 * README's recipe in its {@code run}: one connection's exact sequence.
 */
public class DropwizardTest
{
    /** The application, with the README's lines. */
    public static class HelloApplication extends TestApplication<Configuration>
    {
        final Recorder recorder = new Recorder();

        @Override
        protected void configure(Configuration configuration, Environment environment)
        {
            // The README's recipe: attach a tracker to Dropwizard's server as it starts.
            environment.lifecycle().addEventListener(new LifeCycle.Listener()
            {
                @Override
                public void lifeCycleStarting(LifeCycle server)
                {
                    ConnStateTracker tracker = ConnStateTracker.attach((Server)server, recorder);
                    tracker.getDrain().replaceGracefulHandlers((Server)server);
                }
            });
        }
    }

    @Test
    public void oneConnectionsSequence() throws Exception
    {
        java.nio.file.Path config = Files.createTempFile("dropwizard", ".yml");
        Files.writeString(config, TestApplication.SERVER);
        HelloApplication application = new HelloApplication();
        application.run("server", config.toString());
        try
        {
            Wait.until("Dropwizard's server to start", () -> application.server != null);
            assertEquals(java.util.List.of(), application.server.getDescendants(GracefulHandler.class), "Dropwizard's GracefulHandler is out");
            int port = ((NetworkConnector)application.server.getConnectors()[0]).getLocalPort();
            RawClient c = new RawClient(application.recorder, Raw.connect(port));
            assertEquals("hello", c.send("GET /hello HTTP/1.1\r\nHost: localhost\r\n\r\n").expect(200).text());
            // The servlet container completes the request after the client has the response: closing at once races it.
            c.awaitSequence("new", "active", "idle");
            c.close();
            c.assertSequence("new", "active", "idle", "closed");
            assertEquals(CloseReason.REMOTE_CLOSE, c.reason());
            assertEquals(java.util.List.of(), application.recorder.violations());
        }
        finally
        {
            if (application.server != null)
                application.server.stop();
            Files.deleteIfExists(config);
        }
    }
}
