package dev.connstate.spring;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import dev.connstate.CloseReason;
import dev.connstate.Raw;
import dev.connstate.RawClient;
import dev.connstate.Recorder;
import dev.connstate.Wait;
import dev.connstate.spring.app.HelloApplication;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.test.context.TestExecutionListeners;
import org.springframework.test.context.support.DependencyInjectionTestExecutionListener;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Boot's graceful shutdown drains the connections by their state: the idle one is closed at once,
 * the active one gets its whole response with {@code Connection: close} (no 503) and is closed
 * after it, all within {@code spring.lifecycle.timeout-per-shutdown-phase}.
 */
@SpringBootTest(classes = HelloApplication.class, webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT, properties = {
    "server.address=127.0.0.1",
    "server.shutdown=graceful",
    "spring.lifecycle.timeout-per-shutdown-phase=" + SpringBootGracefulShutdownTest.TIMEOUT_SECONDS + "s"})
// The test closes the application's context itself, as the application's shutdown does: after
// that, no test execution listener may ask for it (they would try to restart it).
@TestExecutionListeners(listeners = DependencyInjectionTestExecutionListener.class, mergeMode = TestExecutionListeners.MergeMode.REPLACE_DEFAULTS)
public class SpringBootGracefulShutdownTest
{
    static final int TIMEOUT_SECONDS = 20;

    @Value("${local.server.port}")
    private int port;
    @Autowired
    private Recorder recorder;
    @Autowired
    private HelloApplication.Gate gate;
    @Autowired
    private ConfigurableApplicationContext context;
    @Autowired
    private ConnStateServerCustomizer jetty;

    @Test
    public void drainsAnIdleAndAnActiveConnection() throws Exception
    {
        RawClient idle = new RawClient(recorder, Raw.connect(port));
        RawClient active = new RawClient(recorder, Raw.connect(port));
        try
        {
            idle.send("GET /hello HTTP/1.1\r\nHost: localhost\r\n\r\n").expect(200);
            idle.awaitSequence("new", "active", "idle");
            active.send("GET /slow HTTP/1.1\r\nHost: localhost\r\n\r\n");
            Wait.until("the slow request to be handled", gate::entered);
            active.awaitSequence("new", "active");

            long began = System.nanoTime();
            CompletableFuture<Void> closed = CompletableFuture.runAsync(context::close);
            // The idle connection is closed at once, while the request in flight goes on.
            assertEquals("", idle.readToEnd());
            idle.close();
            idle.assertSequence("new", "active", "idle", "closed");
            assertEquals(CloseReason.DRAIN, idle.reason());
            Wait.until("the drain to begin", () -> jetty.tracker().getDrain().isDraining());
            assertEquals(1, jetty.tracker().getDrain().getClosedIdle());

            gate.open();
            Raw.Response response = active.read();
            assertEquals(200, response.status(), response.head());
            assertEquals("slow", response.text());
            assertEquals("close", response.header("Connection"), response.head());
            assertEquals("", active.readToEnd());
            active.close();
            active.assertSequence("new", "active", "closed");
            assertEquals(CloseReason.DRAIN, active.reason());

            closed.get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
            long tookMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - began);
            assertTrue(tookMillis < TIMEOUT_SECONDS * 1000L, "the shutdown took " + tookMillis + " ms");
            assertEquals(1, jetty.tracker().getDrain().getFinished());
            assertEquals(0, jetty.tracker().getDrain().getForced());
            assertEquals(java.util.List.of(), recorder.violations());
        }
        finally
        {
            gate.open();
            idle.close();
            active.close();
        }
    }
}
