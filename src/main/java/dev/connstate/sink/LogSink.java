package dev.connstate.sink;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

import dev.connstate.ConnInfo;
import dev.connstate.ConnState;
import dev.connstate.ConnStateListener;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Logs one line per transition at INFO through SLF4J, by default in the spirit of Go's example:
 * {@code Client: 127.0.0.1:54321 - new state: new (id 17)}.
 *
 * <p>The line is a template whose placeholders are {@code {id}}, {@code {remote}},
 * {@code {local}}, {@code {state}}, {@code {prev}}, {@code {protocol}}, {@code {secure}},
 * {@code {requests}}, {@code {prevMs}}, {@code {ageMs}}, {@code {reason}}, {@code {tls}}, {@code {cipher}}
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

    private static final List<String> PLACEHOLDERS = List.of("id", "remote", "local", "state", "prev", "protocol", "secure", "requests", "prevMs", "ageMs", "reason", "tls", "cipher", "sni");

    private final Logger logger;
    private final String format;
    private final List<Object> parts;

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
        this.parts = parse(format);
    }

    /** The template as literal strings and placeholder functions, parsed once. */
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

    private static Function<ConnInfo, Object> placeholder(String name, String format)
    {
        return switch (name)
        {
            case "id" -> ConnInfo::id;
            case "remote" -> ConnInfo::remoteAddress;
            case "local" -> ConnInfo::localAddress;
            case "state" -> ConnInfo::state;
            case "prev" -> c -> c.previous() == null ? "-" : c.previous();
            case "protocol" -> ConnInfo::protocol;
            case "secure" -> ConnInfo::secure;
            case "requests" -> ConnInfo::requests;
            case "prevMs" -> c -> c.previousNanos() / 1_000_000L;
            case "ageMs" -> c -> c.ageNanos() / 1_000_000L;
            case "reason" -> c -> c.reason() == null ? "-" : c.reason();
            case "tls" -> c -> c.tls() == null ? "-" : c.tls().protocol();
            case "cipher" -> c -> c.tls() == null ? "-" : c.tls().cipherSuite();
            case "sni" -> c -> c.tls() == null || c.tls().sniHost() == null ? "-" : c.tls().sniHost();
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
    @SuppressWarnings("unchecked")
    public String line(ConnInfo conn)
    {
        StringBuilder line = new StringBuilder(96);
        for (Object part : parts)
        {
            if (part instanceof String literal)
                line.append(literal);
            else
                OneLine.append(line, String.valueOf(((Function<ConnInfo, Object>)part).apply(conn)));
        }
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
