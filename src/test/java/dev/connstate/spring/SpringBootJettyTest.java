package dev.connstate.spring;

import java.net.Socket;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import dev.connstate.CloseReason;
import dev.connstate.ConnState;
import dev.connstate.ConnStateEvent;
import dev.connstate.Raw;
import dev.connstate.RawClient;
import dev.connstate.RawH2;
import dev.connstate.Recorder;
import dev.connstate.Wait;
import dev.connstate.spring.app.HelloApplication;
import dev.connstate.stress.JsonLinesCheck;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.boot.test.context.SpringBootTest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A real Spring Boot 4 application on Jetty, over real sockets: what one dependency gives. The
 * management server has a port of its own here, so that its connector is covered too.
 */
@SpringBootTest(classes = HelloApplication.class, webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT, properties = {
    "server.address=127.0.0.1",
    "server.http2.enabled=true",
    "management.server.port=0",
    "management.server.address=127.0.0.1",
    "management.endpoints.web.exposure.include=health,connstate,metrics,prometheus",
    "connstate.status.max-rows=1"})
public class SpringBootJettyTest
{
    private static final String GET_HELLO = "GET /hello HTTP/1.1\r\nHost: localhost\r\n\r\n";

    @Value("${local.server.port}")
    private int port;
    @Value("${local.management.port}")
    private int managementPort;
    @Autowired
    private Recorder recorder;
    @Autowired
    private HelloApplication.Ends ends;
    @Autowired
    private MeterRegistry registry;
    @Autowired
    private ConnStateServerCustomizer jetty;

    private RawClient connect(int port) throws Exception
    {
        return new RawClient(recorder, Raw.connect(port));
    }

    @Test
    public void http11KeepAliveThenTheClientCloses() throws Exception
    {
        RawClient c = connect(port);
        assertEquals("hello", c.send(GET_HELLO).expect(200).text());
        assertEquals("hello", c.send(GET_HELLO).expect(200).text());
        c.close();
        c.assertSequence(Recorder.keepAlive(2));
        assertEquals(CloseReason.REMOTE_CLOSE, c.reason());
        assertEquals("http/1.1", c.events().get(1).protocol());
    }

    @Test
    public void http11ConnectionClose() throws Exception
    {
        RawClient c = connect(port);
        c.send("GET /hello HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n").expect(200);
        assertEquals("", c.readToEnd());
        c.close();
        c.assertSequence("new", "active", "closed");
        // A listener bean that wants only the ends is given only the end.
        Wait.until("the end given to the Ends bean", () -> ends.given.containsKey(c.id()));
        assertEquals(List.of(ConnState.CLOSED), ends.given.get(c.id()));
    }

    @Test
    public void h2cUpgradeFromHttp11() throws Exception
    {
        try (RawClient c = connect(port))
        {
            c.send(RawH2.upgradeRequest("/hello"));
            c.expect(101);
            c.send(RawH2.PREFACE_AND_SETTINGS);
            RawH2.readEndOfStream(c.in(), 1);
            c.close();
            c.assertSequence("new", "active", "idle", "closed");
            List<ConnStateEvent> events = c.events();
            assertEquals(List.of("unknown", "h2c", "h2c", "h2c"), events.stream().map(ConnStateEvent::protocol).toList());
        }
    }

    /**
     * The connection asking the management port is tracked by the same tracker as the server port's;
     * {@code connstate.status.max-rows=1} bounds the table to the connection longest in each state.
     */
    @Test
    public void theEndpointServesTheTableAndClosesIdleConnections() throws Exception
    {
        try (RawClient idle = connect(port); RawClient asking = connect(managementPort))
        {
            idle.send(GET_HELLO).expect(200);
            idle.awaitSequence("new", "active", "idle");
            Raw.Response response = asking.send("GET /actuator/connstate HTTP/1.1\r\nHost: localhost\r\n\r\n").expect(200);
            assertEquals("application/json", response.header("Content-Type"));
            String body = response.text();
            Map<String, Object> table = JsonLinesCheck.parseObject(body, "the table");
            assertEquals(List.of("time", "counts", "shownPerState", "truncated", "connections"), List.copyOf(table.keySet()), body);
            assertEquals(ordered("new", 0L, "active", 1L, "idle", 1L), table.get("counts"), body);
            assertEquals(1L, table.get("shownPerState"), body);
            assertEquals(false, table.get("truncated"), body);
            // One row per connection, by id.
            List<Map<String, Object>> expected = new ArrayList<>(List.of(row(idle, port, "idle"), row(asking, managementPort, "active")));
            expected.sort(Comparator.comparingLong(row -> (Long)row.get("id")));
            assertEquals(expected, Arrays.stream((Object[])table.get("connections")).map(SpringBootJettyTest::withoutTimes).toList(), body);

            // A second idle connection: two idle, one shown, the one idle longest.
            try (RawClient later = connect(port))
            {
                later.send(GET_HELLO).expect(200);
                later.awaitSequence("new", "active", "idle");
                body = asking.send("GET /actuator/connstate HTTP/1.1\r\nHost: localhost\r\n\r\n").expect(200).text();
                table = JsonLinesCheck.parseObject(body, "the table");
                assertEquals(ordered("new", 0L, "active", 1L, "idle", 2L), table.get("counts"), body);
                assertEquals(true, table.get("truncated"), body);
                // The asking connection's second request.
                expected.replaceAll(row -> row.get("id").equals(asking.id()) ? with(row, "requests", 2L) : row);
                assertEquals(expected, Arrays.stream((Object[])table.get("connections")).map(SpringBootJettyTest::withoutTimes).toList(), body);

                Raw.Response closed = asking.send("POST /actuator/connstate HTTP/1.1\r\nHost: localhost\r\nContent-Length: 0\r\n\r\n").expect(200);
                assertEquals("{\"closed\":2}", closed.text());
                assertEquals("", later.readToEnd());
                later.assertSequence("new", "active", "idle", "closed");
            }
            assertEquals("", idle.readToEnd());
            idle.assertSequence("new", "active", "idle", "closed");
            assertEquals(CloseReason.LOCAL_CLOSE, idle.reason());
        }
    }

    private static Map<String, Object> row(RawClient client, int localPort, String state)
    {
        return ordered("id", client.id(), "remote", "127.0.0.1:" + client.port(), "local", "127.0.0.1:" + localPort,
            "protocol", "http/1.1", "secure", false, "state", state, "requests", 1L);
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> withoutTimes(Object row)
    {
        Map<String, Object> fields = new LinkedHashMap<>((Map<String, Object>)row);
        assertEquals(List.of("id", "remote", "local", "protocol", "secure", "state", "stateMs", "ageMs", "requests"), List.copyOf(fields.keySet()));
        assertTrue((Long)fields.remove("stateMs") >= 0 && (Long)fields.remove("ageMs") >= 0, row::toString);
        return fields;
    }

    private static Map<String, Object> with(Map<String, Object> row, String key, Object value)
    {
        Map<String, Object> changed = new LinkedHashMap<>(row);
        changed.put(key, value);
        return changed;
    }

    private static Map<String, Object> ordered(Object... keysAndValues)
    {
        Map<String, Object> map = new LinkedHashMap<>();
        for (int i = 0; i < keysAndValues.length; i += 2)
            map.put((String)keysAndValues[i], keysAndValues[i + 1]);
        return map;
    }

    /** Boot bound the instruments to its registry, beside its own Jetty metrics; the Prometheus scrape shows them by state. */
    @Test
    public void theMetricsAreInTheRegistryAndInTheScrape() throws Exception
    {
        assertTrue(registry.find("jetty.connections.current").gauge() != null, "Boot's own Jetty metrics");
        try (RawClient idle = connect(port); RawClient fresh = connect(port); RawClient scraper = connect(managementPort))
        {
            idle.send(GET_HELLO).expect(200);
            idle.awaitSequence("new", "active", "idle");
            fresh.id();
            scraper.id();
            // The scrape is the first read of the gauges (a read walks the connections, shared for 100 ms).
            String scrape = scraper.send("GET /actuator/prometheus HTTP/1.1\r\nHost: localhost\r\n\r\n").expect(200).text();
            // One series per kind of connection (protocol version, scheme) and state: summed by port and state.
            Map<String, Double> sums = new TreeMap<>();
            for (String line : scrape.split("\n"))
            {
                if (line.startsWith("http_server_open_connections{"))
                    sums.merge(line.replaceAll(".*http_connection_state=\"([a-z]+)\".*server_port=\"([0-9]+)\".*", "$2 $1"), Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1)), Double::sum);
            }
            assertEquals(Map.of(
                port + " active", 0.0, port + " idle", 1.0, port + " new", 1.0,
                managementPort + " active", 1.0, managementPort + " idle", 0.0, managementPort + " new", 0.0), sums, scrape);
            // In the registry itself, once the scrape's connection waits for its next request.
            scraper.awaitSequence("new", "active", "idle");
            Wait.until("1 new, 1 idle on the server port", Wait.TIMEOUT, () -> openConnections(port), Map.of("new", 1.0, "active", 0.0, "idle", 1.0)::equals);
            Wait.until("1 idle on the management port", Wait.TIMEOUT, () -> openConnections(managementPort), Map.of("new", 0.0, "active", 0.0, "idle", 1.0)::equals);
        }
    }

    private Map<String, Double> openConnections(int serverPort)
    {
        Map<String, Double> byState = new TreeMap<>();
        for (Gauge gauge : registry.find("http.server.open_connections").tag("server.port", String.valueOf(serverPort)).gauges())
            byState.merge(gauge.getId().getTag("http.connection.state"), gauge.value(), Double::sum);
        return byState;
    }

    /** The tracker covers the server's connector and the management server's, and nothing was refused or lost. */
    @Test
    public void oneTrackerForBothPorts() throws Exception
    {
        try (Socket ignored = Raw.connect(port))
        {
            List<Integer> ports = jetty.tracker().getTrackedConnectors().stream()
                .map(c -> ((org.eclipse.jetty.server.NetworkConnector)c).getLocalPort()).sorted().toList();
            assertEquals(List.of(Math.min(port, managementPort), Math.max(port, managementPort)), ports);
        }
        assertEquals(List.of(), recorder.violations());
        assertEquals(0, jetty.tracker().getIllegalTransitions());
        assertEquals(0, jetty.tracker().getInternalErrors());
    }
}
