package dev.connstate.spring;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import dev.connstate.CloseReason;
import dev.connstate.Raw;
import dev.connstate.RawClient;
import dev.connstate.Recorder;
import dev.connstate.spring.app.HelloApplication;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.test.context.TestExecutionListeners;
import org.springframework.test.context.support.DependencyInjectionTestExecutionListener;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Boot's immediate shutdown ({@code server.shutdown=immediate}) stops the connectors, which
 * close their connections: the server closed them, so their reason is {@code local_close}, as
 * when Jetty itself stops; no drain runs.
 */
@SpringBootTest(classes = HelloApplication.class, webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT, properties = {
    "server.address=127.0.0.1",
    "server.shutdown=immediate"})
// The test closes the application's context itself, as the application's shutdown does: after
// that, no test execution listener may ask for it (they would try to restart it).
@TestExecutionListeners(listeners = DependencyInjectionTestExecutionListener.class, mergeMode = TestExecutionListeners.MergeMode.REPLACE_DEFAULTS)
public class SpringBootImmediateShutdownTest
{
    @Value("${local.server.port}")
    private int port;
    @Autowired
    private Recorder recorder;
    @Autowired
    private ConfigurableApplicationContext context;
    @Autowired
    private ConnStateServerCustomizer jetty;

    @Test
    public void theConnectionsCloseAsTheServersOwnClose() throws Exception
    {
        try (RawClient idle = new RawClient(recorder, Raw.connect(port)))
        {
            idle.send("GET /hello HTTP/1.1\r\nHost: localhost\r\n\r\n").expect(200);
            idle.awaitSequence("new", "active", "idle");

            CompletableFuture<Void> closed = CompletableFuture.runAsync(context::close);
            assertEquals("", idle.readToEnd());
            idle.assertSequence("new", "active", "idle", "closed");
            assertEquals(CloseReason.LOCAL_CLOSE, idle.reason());
            closed.get(20, TimeUnit.SECONDS);
            assertEquals(0, jetty.tracker().getDrain().getClosedIdle());
            assertEquals(java.util.List.of(), recorder.violations());
        }
    }
}
