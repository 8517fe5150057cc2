package dev.connstate.config;

import java.net.Socket;

import dev.connstate.Wait;
import dev.connstate.Raw;
import dev.connstate.TrackedServer;
import dev.connstate.metrics.Instruments;
import io.opentelemetry.api.GlobalOpenTelemetry;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.metrics.SdkMeterProvider;
import io.opentelemetry.sdk.metrics.data.LongPointData;
import io.opentelemetry.sdk.testing.exporter.InMemoryMetricReader;
import dev.connstate.config.ConnStateModule;
import dev.connstate.config.ModuleSettings;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

/**
 * The module's switch {@value OtelSwitch#PROPERTY}: off by default, on means the instruments on
 * {@code GlobalOpenTelemetry} (what the Java agent sets); anything else is refused by the module's
 * settings ({@code ConnStateModuleTest}).
 * (With the API absent: {@code dev.connstate.metrics.AbsentLibrariesTest}.)
 */
public class OtelSwitchTest
{
    @Test
    public void offRegistersNothing() throws Exception
    {
        try (TrackedServer s = new TrackedServer())
        {
            assertNull(OtelSwitch.apply(s.tracker, false));
        }
    }

    @Test
    public void onReportsThroughGlobalOpenTelemetry() throws Exception
    {
        InMemoryMetricReader reader = InMemoryMetricReader.create();
        OpenTelemetrySdk sdk = OpenTelemetrySdk.builder().setMeterProvider(SdkMeterProvider.builder().registerMetricReader(reader).build()).build();
        GlobalOpenTelemetry.resetForTest();
        GlobalOpenTelemetry.set(sdk);
        try (TrackedServer s = new TrackedServer())
        {
            AutoCloseable metrics = OtelSwitch.apply(s.tracker, true);
            assertNotNull(metrics);
            s.start();
            try (Socket socket = Raw.connect(s.port()))
            {
                Raw.write(socket, "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n");
                assertEquals("hello", Raw.read(socket.getInputStream()).text());
                Wait.until("one idle connection on the global meter provider", () -> idle(reader) == 1);
            }
            metrics.close();
        }
        finally
        {
            GlobalOpenTelemetry.resetForTest();
            sdk.close();
        }
    }

    /** The module's property: counting only through OpenTelemetry is a configuration the module accepts. */
    @Test
    public void theModulePropertyRegistersOnGlobalOpenTelemetryAndUnregistersAtStop() throws Exception
    {
        InMemoryMetricReader reader = InMemoryMetricReader.create();
        OpenTelemetrySdk sdk = OpenTelemetrySdk.builder().setMeterProvider(SdkMeterProvider.builder().registerMetricReader(reader).build()).build();
        GlobalOpenTelemetry.resetForTest();
        GlobalOpenTelemetry.set(sdk);
        Server server = TrackedServer.helloServer();
        ServerConnector connector = (ServerConnector)server.getConnectors()[0];
        ConnStateModule module = new ConnStateModule(server);
        module.setSinks("");
        module.setProperty(ModuleSettings.OTEL, "true");
        server.addBean(module);
        try
        {
            server.start();
            try (Socket socket = Raw.connect(connector.getLocalPort()))
            {
                Raw.write(socket, "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n");
                assertEquals("hello", Raw.read(socket.getInputStream()).text());
                Wait.until("one idle connection on the global meter provider", () -> idle(reader) == 1);
            }
            server.stop();
            // Unregistered at stop: a restart registers once, not twice.
            server.start();
            try (Socket socket = Raw.connect(connector.getLocalPort()))
            {
                Raw.write(socket, "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n");
                assertEquals("hello", Raw.read(socket.getInputStream()).text());
                Wait.until("one idle connection after the restart", () -> idle(reader) == 1);
            }
        }
        finally
        {
            server.stop();
            GlobalOpenTelemetry.resetForTest();
            sdk.close();
        }
    }

    private static long idle(InMemoryMetricReader reader)
    {
        return reader.collectAllMetrics().stream()
            .filter(m -> m.getName().equals(Instruments.OPEN_CONNECTIONS))
            .flatMap(m -> m.getLongSumData().getPoints().stream())
            .filter(p -> "idle".equals(p.getAttributes().get(io.opentelemetry.api.common.AttributeKey.stringKey(Instruments.CONNECTION_STATE))))
            .mapToLong(LongPointData::getValue)
            .sum();
    }
}
