package dev.connstate.it;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import dev.connstate.Wait;
import dev.connstate.stress.JsonLinesCheck;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Reads what the {@code jsonl} sink wrote, in complete lines only, and hands out the
 * connections that appeared since the last call, whole.
 */
public final class JsonLines
{
    private static final Set<String> TERMINAL = Set.of("closed", "hijacked");

    private final Path file;
    private int consumed;

    public JsonLines(Path file)
    {
        this.file = file;
    }

    /** One record of the contract. */
    public record Event(long id, String state, String prev, String remote, String local, String protocol, boolean secure, String line)
    {
        int remotePort()
        {
            return Integer.parseInt(remote.substring(remote.lastIndexOf(':') + 1));
        }

        int localPort()
        {
            return Integer.parseInt(local.substring(local.lastIndexOf(':') + 1));
        }
    }

    /**
     * Every complete line so far, parsed by Jetty's JSON parser and checked against the
     * contract's record: its fields first, in order, of their types (see {@link JsonLinesCheck#object}).
     */
    public List<Event> all()
    {
        String text = Distribution.read(file);
        int end = text.lastIndexOf('\n');
        List<Event> events = new ArrayList<>();
        if (end < 0)
            return events;
        int number = 0;
        for (String line : text.substring(0, end).split("\n"))
        {
            Map<String, Object> json = JsonLinesCheck.object(line, file + ":" + ++number);
            events.add(new Event(((Number)json.get("id")).longValue(), (String)json.get("state"), (String)json.get("prev"),
                (String)json.get("remote"), (String)json.get("local"), (String)json.get("protocol"), (Boolean)json.get("secure"), line));
        }
        return events;
    }

    /**
     * Waits (bounded) until exactly {@code count} connections appeared since the last call and
     * all of them ended, then returns them, by id in order of their {@code new}.
     */
    public List<List<Event>> next(int count)
    {
        List<List<Event>> result = new ArrayList<>();
        Wait.until(count + " connection(s) to end in " + file, Distribution.EVENT_TIMEOUT, () ->
        {
            List<Event> events = all();
            Map<Long, List<Event>> byId = group(events.subList(Math.min(consumed, events.size()), events.size()));
            if (byId.size() < count || !byId.values().stream().allMatch(JsonLines::ended))
                return false;
            result.clear();
            result.addAll(byId.values());
            consumed = events.size();
            return true;
        });
        assertEquals(count, result.size(), "connections since the last check: " + result);
        return result;
    }

    /** The one connection that appeared since the last call. */
    public List<Event> nextOne()
    {
        return next(1).get(0);
    }

    /** The lines written since the last call (of this or of {@link #next}), which it consumes. */
    public List<String> since()
    {
        List<Event> events = all();
        List<String> lines = events.subList(Math.min(consumed, events.size()), events.size()).stream().map(Event::line).toList();
        consumed = events.size();
        return lines;
    }

    static Map<Long, List<Event>> group(List<Event> events)
    {
        Map<Long, List<Event>> byId = new LinkedHashMap<>();
        for (Event e : events)
            byId.computeIfAbsent(e.id(), id -> new ArrayList<>()).add(e);
        return byId;
    }

    static boolean ended(List<Event> connection)
    {
        return TERMINAL.contains(connection.get(connection.size() - 1).state());
    }

    public static List<String> states(List<Event> connection)
    {
        return connection.stream().map(Event::state).toList();
    }

    /** The exact sequence, with {@code prev} chained and one id, local port and TLS flag throughout. */
    public static void assertSequence(List<Event> connection, int localPort, boolean secure, String... states)
    {
        assertEquals(List.of(states), states(connection), () -> "sequence of " + lines(connection));
        assertNull(connection.get(0).prev(), () -> "prev of new in " + lines(connection));
        for (int i = 1; i < connection.size(); i++)
            assertEquals(connection.get(i - 1).state(), connection.get(i).prev(), "prev chain in " + lines(connection));
        for (Event e : connection)
        {
            assertEquals(localPort, e.localPort(), () -> "local port in " + e.line());
            assertEquals(secure, e.secure(), () -> "secure in " + e.line());
            assertTrue(e.remote().startsWith("127.0.0.1:"), () -> "remote in " + e.line());
        }
    }

    /** The protocol of every event after the request began (from {@code active} on). */
    public static void assertProtocol(List<Event> connection, String protocol)
    {
        for (Event e : connection)
        {
            if (!e.state().equals("new"))
                assertEquals(protocol, e.protocol(), () -> "protocol in " + e.line());
        }
    }

    static String lines(List<Event> connection)
    {
        StringBuilder s = new StringBuilder();
        for (Event e : connection)
            s.append('\n').append(e.line());
        return s.toString();
    }
}
