package dev.connstate.stress;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.eclipse.jetty.util.ajax.JSON;

/**
 * Reads a JSON Lines file of the {@code jsonl} sink strictly: every line must be one JSON
 * object with the contract's fields; returns the states per connection id.
 */
final class JsonLinesCheck
{
    static final Set<String> STATES = Set.of("new", "active", "idle", "hijacked", "closed");

    private JsonLinesCheck()
    {
    }

    /** The states of every connection, by id, in file order; fails on any line that is not a valid record. */
    static Map<Long, List<String>> read(Path file) throws IOException
    {
        Map<Long, List<String>> byId = new LinkedHashMap<>();
        byte[] bytes = Files.readAllBytes(file);
        String text = new String(bytes, StandardCharsets.UTF_8);
        if (!text.isEmpty() && !text.endsWith("\n"))
            throw new AssertionError("the last line of " + file + " is not terminated: " + text.substring(Math.max(0, text.length() - 200)));
        int number = 0;
        for (String line : text.split("\n", -1))
        {
            number++;
            if (line.isEmpty())
                continue;
            Map<String, Object> record = object(line, file + ":" + number);
            long id = ((Number)record.get("id")).longValue();
            byId.computeIfAbsent(id, k -> new ArrayList<>()).add((String)record.get("state"));
        }
        return byId;
    }

    /** Parses one line as one JSON object with the contract's fields, or fails saying why. */
    @SuppressWarnings("unchecked")
    static Map<String, Object> object(String line, String where)
    {
        if (line.indexOf('\n') >= 0 || line.indexOf('\r') >= 0)
            throw new AssertionError(where + ": a line break inside a record: " + line);
        Object parsed;
        try
        {
            parsed = new JSON().fromJSON(line);
        }
        catch (RuntimeException x)
        {
            throw new AssertionError(where + ": not JSON (" + x.getMessage() + "): " + line, x);
        }
        if (!(parsed instanceof Map))
            throw new AssertionError(where + ": not a JSON object: " + line);
        Map<String, Object> record = (Map<String, Object>)parsed;
        for (String field : List.of("time", "id", "remote", "local", "state", "prev", "protocol", "secure"))
        {
            if (!record.containsKey(field))
                throw new AssertionError(where + ": no '" + field + "' in " + line);
        }
        if (!STATES.contains(record.get("state")))
            throw new AssertionError(where + ": bad state in " + line);
        if (!(record.get("id") instanceof Number))
            throw new AssertionError(where + ": bad id in " + line);
        if (!(record.get("remote") instanceof String) || !(record.get("local") instanceof String))
            throw new AssertionError(where + ": bad addresses in " + line);
        return record;
    }

    /** Problems with the sequences: not one new first, not one terminal last. */
    static List<String> incomplete(Map<Long, List<String>> byId)
    {
        List<String> problems = new ArrayList<>();
        for (Map.Entry<Long, List<String>> e : byId.entrySet())
        {
            List<String> states = e.getValue();
            long terminals = states.stream().filter(s -> s.equals("closed") || s.equals("hijacked")).count();
            String last = states.get(states.size() - 1);
            if (!states.get(0).equals("new") || terminals != 1 || !(last.equals("closed") || last.equals("hijacked")))
                problems.add("#" + e.getKey() + " " + states);
        }
        return problems;
    }
}
