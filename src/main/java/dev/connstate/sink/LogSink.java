package dev.connstate.sink;

import java.util.ArrayList;
import java.util.List;

import dev.connstate.ConnInfo;
import dev.connstate.ConnState;
import dev.connstate.ConnStateListener;
import dev.connstate.TlsInfo;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Logs one line per transition at INFO through SLF4J, by default in the spirit of Go's example:
 * {@code Client: 127.0.0.1:54321 - new state: new (id 17)}.
 *
 * <p>The line is a template whose placeholders are {@code {id}}, {@code {remote}},
 * {@code {local}}, {@code {state}}, {@code {prev}}, {@code {protocol}}, {@code {secure}},
 * {@code {requests}}, {@code {prevMs}}, {@code {ageMs}}, {@code {reason}}, {@code {race}} ({@code true}
 * on the {@code closed} of a connection whose close a request raced), {@code {tls}}, {@code {cipher}}
 * and {@code {sni}} ({@code -} where there is no value); an unknown placeholder is refused when the sink is
 * made. Values are made safe for a log line: control characters (CR, LF, ...) are escaped.</p>
 *
 * <p>It does I/O (the logger's appenders): register it as a queued listener, never inline.</p>
 */
public final class LogSink implements ConnStateListener
{
    /** The default logger name. */
    public static final String DEFAULT_LOGGER = "connstate";
    /** The default line. */
    public static final String DEFAULT_FORMAT = "Client: {remote} - new state: {state} (id {id})";

    private static final List<String> PLACEHOLDERS = List.of("id", "remote", "local", "state", "prev", "protocol", "secure", "requests", "prevMs", "ageMs", "reason", "race", "tls", "cipher", "sni");

    /** One piece of the line: a literal or a placeholder. */
    @FunctionalInterface
    private interface Part
    {
        void append(StringBuilder line, ConnInfo conn);
    }

    private final Logger logger;
    private final String format;
    private final Part[] parts;
    /** Enough for most lines: the literals and some 24 characters per placeholder. */
    private final int capacity;

    /**
     * Logs the default line to the logger {@value #DEFAULT_LOGGER}.
     */
    public LogSink()
    {
        this(DEFAULT_LOGGER, DEFAULT_FORMAT);
    }

    /**
     * @param logger the SLF4J logger name
     * @param format the line template
     * @throws IllegalArgumentException if the template has an unknown or unclosed placeholder
     */
    public LogSink(String logger, String format)
    {
        if (logger == null || logger.isBlank())
            throw new IllegalArgumentException("The logger name must not be empty");
        this.logger = LoggerFactory.getLogger(logger);
        this.format = format;
        List<Part> parts = new ArrayList<>();
        int capacity = 16;
        for (Object part : parse(format))
        {
            if (part instanceof String literal)
            {
                parts.add((line, conn) -> line.append(literal));
                capacity += literal.length();
            }
            else
            {
                parts.add((Part)part);
                capacity += 24;
            }
        }
        this.parts = parts.toArray(new Part[0]);
        this.capacity = capacity;
    }

    /** The template as literal strings and placeholders, parsed once. */
    private static List<Object> parse(String format)
    {
        if (format == null || format.isEmpty())
            throw new IllegalArgumentException("The line format must not be empty");
        List<Object> parts = new ArrayList<>();
        int i = 0;
        while (i < format.length())
        {
            int open = format.indexOf('{', i);
            if (open < 0)
            {
                parts.add(format.substring(i));
                break;
            }
            int close = format.indexOf('}', open);
            if (close < 0)
                throw new IllegalArgumentException("Unclosed placeholder at position " + open + " of line format '" + format + "'");
            if (open > i)
                parts.add(format.substring(i, open));
            String name = format.substring(open + 1, close);
            parts.add(placeholder(name, format));
            i = close + 1;
        }
        return List.copyOf(parts);
    }

    /**
     * Every value goes into the line as {@code String.valueOf} gives it, made safe by
     * {@link OneLine}; numbers, booleans and state names need no escaping and are appended as they are.
     */
    private static Part placeholder(String name, String format)
    {
        return switch (name)
        {
            case "id" -> (line, c) -> line.append(c.id());
            // The text of an address is made once per connection, by Addresses, for every sink.
            case "remote" -> (line, c) -> OneLine.append(line, String.valueOf(c.remoteAddress()));
            case "local" -> (line, c) -> OneLine.append(line, String.valueOf(c.localAddress()));
            case "state" -> (line, c) -> line.append(c.state());
            case "prev" -> (line, c) ->
            {
                ConnState previous = c.previous();
                line.append(previous == null ? "-" : previous.toString());
            };
            case "protocol" -> (line, c) -> OneLine.append(line, String.valueOf(c.protocol()));
            case "secure" -> (line, c) -> line.append(c.secure());
            case "requests" -> (line, c) -> line.append(c.requests());
            case "prevMs" -> (line, c) -> line.append(c.previousNanos() / 1_000_000L);
            case "ageMs" -> (line, c) -> line.append(c.ageNanos() / 1_000_000L);
            case "reason" -> (line, c) -> line.append(c.reason() == null ? "-" : c.reason().toString());
            case "race" -> (line, c) -> line.append(c.race());
            case "tls" -> (line, c) ->
            {
                TlsInfo tls = c.tls();
                OneLine.append(line, tls == null ? "-" : String.valueOf(tls.protocol()));
            };
            case "cipher" -> (line, c) ->
            {
                TlsInfo tls = c.tls();
                OneLine.append(line, tls == null ? "-" : String.valueOf(tls.cipherSuite()));
            };
            case "sni" -> (line, c) ->
            {
                TlsInfo tls = c.tls();
                OneLine.append(line, tls == null || tls.sniHost() == null ? "-" : tls.sniHost());
            };
            default -> throw new IllegalArgumentException("Unknown placeholder {" + name + "} in line format '" + format + "' (known: " + PLACEHOLDERS + ")");
        };
    }

    /**
     * @return the line template
     */
    public String getFormat()
    {
        return format;
    }

    /**
     * @param conn the connection
     * @return the line this sink logs for it
     */
    public String line(ConnInfo conn)
    {
        StringBuilder line = new StringBuilder(capacity);
        for (Part part : parts)
            part.append(line, conn);
        return line.toString();
    }

    @Override
    public void onStateChange(ConnInfo conn, ConnState state)
    {
        if (logger.isInfoEnabled())
            logger.info(line(conn));
    }

    @Override
    public String toString()
    {
        return "log[" + logger.getName() + "]";
    }
}
