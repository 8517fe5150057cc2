package dev.connstate.jetty;

import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import dev.connstate.Wait;
import dev.connstate.TrackedServer;
import dev.connstate.stress.JsonLinesCheck;
import org.junit.jupiter.api.Test;

import static dev.connstate.TrackedServer.ascii;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

public class StatusHandlerTest
{
    private static String get(Socket socket, String path) throws Exception
    {
        socket.getOutputStream().write(ascii("GET " + path + " HTTP/1.1\r\nHost: localhost\r\n\r\n"));
        InputStream in = socket.getInputStream();
        StringBuilder head = new StringBuilder();
        while (!head.toString().endsWith("\r\n\r\n"))
            head.append((char)in.read());
        int length = Integer.parseInt(head.toString().replaceAll("(?s).*[Cc]ontent-[Ll]ength: (\\d+).*", "$1"));
        return head + new String(in.readNBytes(length), StandardCharsets.UTF_8);
    }

    @Test
    public void tableListsOpenConnectionsIncludingItsOwn() throws Exception
    {
        try (TrackedServer s = new TrackedServer())
        {
            s.server.setHandler(new ConnStateStatusHandler(s.tracker, "/connstate", "") {{ setHandler(new TrackedServer.Hello()); }});
            s.start();
            long before = System.currentTimeMillis();
            try (Socket idle = new Socket("127.0.0.1", s.port()); Socket fresh = new Socket("127.0.0.1", s.port()); Socket asking = new Socket("127.0.0.1", s.port()))
            {
                get(idle, "/hello");
                long freshId = s.recorder.idOfClientPort(fresh.getLocalPort());
                dev.connstate.Wait.until("idle connection", () -> s.tracker.getIdleConnections() == 1);
                String response = get(asking, "/connstate");
                long after = System.currentTimeMillis();
                assertTrue(response.startsWith("HTTP/1.1 200"), response);
                assertTrue(response.contains("\r\nContent-Type: application/json\r\n"), response);
                String body = response.substring(response.indexOf("\r\n\r\n") + 4);
                Map<String, Object> table = JsonLinesCheck.parseObject(body, "the table");
                assertEquals(List.of("time", "counts", "shownPerState", "truncated", "connections"), List.copyOf(table.keySet()), body);
                assertEquals(1000L, table.get("shownPerState"), body);
                assertEquals(false, table.get("truncated"), body);
                // Made from the wall clock in milliseconds, written with microseconds.
                Instant time = Instant.parse((String)table.get("time"));
                assertTrue(time.toEpochMilli() >= before && time.toEpochMilli() <= after && time.getNano() % 1_000_000 == 0, body);
                assertEquals(ordered("new", 1L, "active", 1L, "idle", 1L), table.get("counts"), body);
                assertEquals(List.of("new", "active", "idle"), List.copyOf(((Map<?, ?>)table.get("counts")).keySet()), body);

                long idleId = s.recorder.idOfClientPort(idle.getLocalPort());
                long askingId = s.recorder.idOfClientPort(asking.getLocalPort());
                String local = "127.0.0.1:" + s.port();
                Object[] rows = (Object[])table.get("connections");
                assertEquals(3, rows.length, body);
                // By id, every field in the README's order; the times are checked against the test's own clock.
                long bound = after - before;
                Object[][] expected = {
                    {idleId, idle, "http/1.1", "idle", 1L},
                    {freshId, fresh, "unknown", "new", 0L},
                    {askingId, asking, "http/1.1", "active", 1L}};
                Arrays.sort(expected, Comparator.comparingLong(row -> (Long)row[0]));
                for (int i = 0; i < rows.length; i++)
                {
                    @SuppressWarnings("unchecked")
                    Map<String, Object> row = (Map<String, Object>)rows[i];
                    assertEquals(List.of("id", "remote", "local", "protocol", "secure", "state", "stateMs", "ageMs", "requests"), List.copyOf(row.keySet()), body);
                    long stateMs = (Long)row.get("stateMs");
                    long ageMs = (Long)row.get("ageMs");
                    assertTrue(stateMs >= 0 && stateMs <= bound && ageMs >= 0 && ageMs <= bound, () -> "stateMs and ageMs within the " + bound + " ms of the test in " + row);
                    Map<String, Object> fixed = new LinkedHashMap<>(row);
                    fixed.remove("stateMs");
                    fixed.remove("ageMs");
                    Object[] e = expected[i];
                    assertEquals(ordered("id", e[0], "remote", "127.0.0.1:" + ((Socket)e[1]).getLocalPort(), "local", local,
                        "protocol", e[2], "secure", false, "state", e[3], "requests", e[4]), fixed, body);
                }
            }
        }
    }

    private static Map<String, Object> ordered(Object... keysAndValues)
    {
        Map<String, Object> map = new LinkedHashMap<>();
        for (int i = 0; i < keysAndValues.length; i += 2)
            map.put((String)keysAndValues[i], keysAndValues[i + 1]);
        return map;
    }

    @Test
    public void refusesOthersUnlessAllowed()
    {
        ConnStateStatusHandler loopbackOnly = new ConnStateStatusHandler(null, "/s", null);
        assertTrue(loopbackOnly.isAllowed(new InetSocketAddress("127.0.0.1", 1)));
        assertTrue(loopbackOnly.isAllowed(new InetSocketAddress("::1", 1)));
        assertFalse(loopbackOnly.isAllowed(new InetSocketAddress("10.1.2.3", 1)));
        ConnStateStatusHandler ranges = new ConnStateStatusHandler(null, "/s", "10.0.0.0/8, 192.168.1.5");
        assertTrue(ranges.isAllowed(new InetSocketAddress("10.1.2.3", 1)));
        assertTrue(ranges.isAllowed(new InetSocketAddress("192.168.1.5", 1)));
        assertFalse(ranges.isAllowed(new InetSocketAddress("192.168.1.6", 1)));
        assertThrows(IllegalArgumentException.class, () -> new ConnStateStatusHandler(null, "/s", "example.com"));
        // All hex letters would be a host name to look up: refused.
        assertThrows(IllegalArgumentException.class, () -> new ConnStateStatusHandler(null, "/s", "cafe"));
        assertThrows(IllegalArgumentException.class, () -> new ConnStateStatusHandler(null, "/s", "10.0.0.1-cafe"));
        ConnStateStatusHandler v6 = new ConnStateStatusHandler(null, "/s", "2001:db8::/32, 10.0.0.1-10.0.0.9");
        assertTrue(v6.isAllowed(new InetSocketAddress("2001:db8::7", 1)));
        assertTrue(v6.isAllowed(new InetSocketAddress("10.0.0.5", 1)));
        assertFalse(v6.isAllowed(new InetSocketAddress("2001:db9::7", 1)));
        assertThrows(IllegalArgumentException.class, () -> new ConnStateStatusHandler(null, "s", ""));
    }
}
