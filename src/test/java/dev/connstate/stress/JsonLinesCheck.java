package dev.connstate.stress;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

import org.eclipse.jetty.util.ajax.JSON;

/**
 * Reads what the library writes as JSON strictly, with Jetty's JSON parser: a whole document
 * and nothing after it, objects with their keys in the order written; and a JSON Lines file of
 * the {@code jsonl} sink, every line one record of the contract, returning the states per
 * connection id.
 */
public final class JsonLinesCheck
{
    static final Set<String> STATES = Set.of("new", "active", "idle", "hijacked", "closed");
    /** The contract's fields, first and in this order; more may follow. */
    public static final List<String> FIELDS = List.of("time", "id", "remote", "local", "state", "prev", "protocol", "secure");
    /** ISO-8601 UTC with microseconds, as the contract's example. */
    private static final Pattern TIME = Pattern.compile("[+-]?[0-9]{4,}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{6}Z");

    /** Jetty's parser, with objects that keep their keys in order, so that the order can be asserted. */
    private static final class OrderedJson extends JSON
    {
        @Override
        protected Map<String, Object> newMap()
        {
            return new LinkedHashMap<>();
        }
    }

    private JsonLinesCheck()
    {
    }

    /**
     * @param json one JSON document
     * @param where what to name in a failure
     * @return the document parsed: {@code Map} (keys in order), {@code Object[]}, {@code String},
     * {@code Long}, {@code Double}, {@code Boolean} or {@code null}
     * @throws AssertionError if it is not JSON, or has anything but white space after the document
     */
    public static Object parse(String json, String where)
    {
        JSON.StringSource source = new JSON.StringSource(json);
        Object parsed;
        try
        {
            parsed = new OrderedJson().parse(source);
        }
        catch (RuntimeException x)
        {
            throw new AssertionError(where + ": not JSON (" + x.getMessage() + "): " + json, x);
        }
        while (source.hasNext())
        {
            char c = source.next();
            if (!Character.isWhitespace(c))
                throw new AssertionError(where + ": '" + c + "' after the JSON document: " + json);
        }
        return parsed;
    }

    /**
     * @return {@code json} parsed as one object, keys in order
     * @throws AssertionError if it is not one JSON object and nothing else
     */
    @SuppressWarnings("unchecked")
    public static Map<String, Object> parseObject(String json, String where)
    {
        Object parsed = parse(json, where);
        if (!(parsed instanceof Map))
            throw new AssertionError(where + ": not a JSON object: " + json);
        return (Map<String, Object>)parsed;
    }

    /** The states of every connection, by id, in file order; fails on any line that is not a valid record. */
    static Map<Long, List<String>> read(Path file) throws IOException
    {
        Map<Long, List<String>> byId = new LinkedHashMap<>();
        String text = utf8(Files.readAllBytes(file), file.toString());
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

    /**
     * @return {@code bytes} decoded as UTF-8
     * @throws AssertionError if they are not valid UTF-8
     */
    public static String utf8(byte[] bytes, String where)
    {
        try
        {
            return StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT)
                .decode(ByteBuffer.wrap(bytes)).toString();
        }
        catch (CharacterCodingException x)
        {
            throw new AssertionError(where + ": not UTF-8 (" + x + ")", x);
        }
    }

    /**
     * Parses one line as one JSON object with the contract's fields, first, in the contract's
     * order and of the contract's types, or fails saying why (see {@link #line}).
     */
    public static Map<String, Object> object(String line, String where)
    {
        Map<String, Object> record = line(line, where);
        List<String> keys = List.copyOf(record.keySet());
        if (keys.size() < FIELDS.size() || !keys.subList(0, FIELDS.size()).equals(FIELDS))
            throw new AssertionError(where + ": fields " + keys + ", not first " + FIELDS + ": " + line);
        if (!(record.get("time") instanceof String time) || !TIME.matcher(time).matches())
            throw new AssertionError(where + ": bad time in " + line);
        if (!(record.get("id") instanceof Long))
            throw new AssertionError(where + ": bad id in " + line);
        if (!(record.get("remote") instanceof String) || !(record.get("local") instanceof String))
            throw new AssertionError(where + ": bad addresses in " + line);
        if (!STATES.contains(record.get("state")))
            throw new AssertionError(where + ": bad state in " + line);
        Object prev = record.get("prev");
        if (prev != null && !STATES.contains(prev))
            throw new AssertionError(where + ": bad prev in " + line);
        if (!(record.get("protocol") instanceof String) || !(record.get("secure") instanceof Boolean))
            throw new AssertionError(where + ": bad protocol or secure in " + line);
        return record;
    }

    /**
     * Parses one line as one JSON object, keys in order, or fails saying why. Every escape must
     * be JSON's own: no character that could break the line (controls, DEL, U+2028, U+2029) or
     * that UTF-8 cannot carry (an unpaired surrogate) may be in the line as it is.
     */
    public static Map<String, Object> line(String line, String where)
    {
        for (int i = 0; i < line.length(); i++)
        {
            char c = line.charAt(i);
            boolean paired = Character.isHighSurrogate(c) && i + 1 < line.length() && Character.isLowSurrogate(line.charAt(i + 1));
            if (paired)
                i++;
            else if (c < 0x20 || c == 0x7f || c == '\u2028' || c == '\u2029' || Character.isSurrogate(c))
                throw new AssertionError(where + ": raw character " + (int)c + " at " + i + " in a record: " + line);
        }
        return parseObject(line, where);
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
