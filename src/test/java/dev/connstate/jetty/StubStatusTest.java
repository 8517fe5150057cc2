package dev.connstate.jetty;

import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import dev.connstate.Raw;
import dev.connstate.TrackedServer;
import dev.connstate.Wait;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * {@code ?format=stub_status} on a real server with known connections, byte for byte as nginx
 * prints it, and as two collectors that read nginx parse it: Telegraf's nginx input and
 * Metricbeat's nginx stubstatus metricset, their parsing ported below from their source.
 */
public class StubStatusTest
{
    /**
     * nginx's own format strings, from {@code ngx_http_stub_status_handler} in
     * nginx/nginx {@code src/http/modules/ngx_http_stub_status_module.c} (commit
     * 3f6f7824d4e2eb1ac37dec76683d525ac0ff521c), in the order it prints them.
     */
    private static final String[] NGINX_FORMAT = {
        "Active connections: %uA \n",
        "server accepts handled requests\n",
        " %uA %uA %uA \n",
        "Reading: %uA Writing: %uA Waiting: %uA \n"};

    /** What nginx's {@code ngx_sprintf} prints for {@link #NGINX_FORMAT}: each {@code %uA} an unsigned decimal. */
    private static String nginx(long active, long accepts, long handled, long requests, long reading, long writing, long waiting)
    {
        long[] values = {active, accepts, handled, requests, reading, writing, waiting};
        StringBuilder out = new StringBuilder();
        int next = 0;
        for (String format : NGINX_FORMAT)
        {
            String[] parts = format.split("%uA", -1);
            out.append(parts[0]);
            for (int i = 1; i < parts.length; i++)
                out.append(Long.toUnsignedString(values[next++])).append(parts[i]);
        }
        assertEquals(values.length, next);
        return out.toString();
    }

    @Test
    public void aRealRunReadsAsNginxsText() throws Exception
    {
        try (TrackedServer s = new TrackedServer())
        {
            ConnStateStatusHandler table = new ConnStateStatusHandler(s.tracker, "/connstate", "");
            table.setHandler(new TrackedServer.Hello());
            s.handler(table).start();
            int port = s.port();
            // One connection, one request, closed: opened and counted, no longer open.
            try (Socket once = Raw.connect(port))
            {
                Raw.write(once, "GET /hello HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
                assertEquals("hello", Raw.read(once.getInputStream()).text());
            }
            Wait.until("the closed connection", () -> s.tracker.getClosedTotal() == 1);
            try (Socket idle = Raw.connect(port); Socket silent1 = Raw.connect("127.0.0.2", port); Socket silent2 = Raw.connect("127.0.0.3", port);
                 Socket asking = Raw.connect(port))
            {
                // Three requests on one keep-alive connection, left idle.
                for (int i = 0; i < 3; i++)
                {
                    Raw.write(idle, "GET /hello HTTP/1.1\r\nHost: localhost\r\n\r\n");
                    assertEquals("hello", Raw.read(idle.getInputStream()).text());
                }
                Wait.until("2 silent clients and the asking one new, 1 idle", () -> s.tracker.getNewConnections() == 3 && s.tracker.getIdleConnections() == 1);

                Raw.write(asking, "GET /connstate?format=stub_status HTTP/1.1\r\nHost: localhost\r\n\r\n");
                Raw.Response response = Raw.read(asking.getInputStream());
                assertEquals(200, response.status());
                assertEquals("text/plain", response.header("Content-Type"));
                String text = response.text();
                // Open: 2 new (the silent ones), 1 active (this request), 1 idle. Opened: those 4 and
                // the closed one. Requests: 1 + 3 + this one.
                String expected = "Active connections: 4 \nserver accepts handled requests\n 5 5 5 \nReading: 2 Writing: 1 Waiting: 1 \n";
                assertArrayEquals(expected.getBytes(StandardCharsets.US_ASCII), response.body(), text);
                assertEquals(nginx(4, 5, 5, 5, 2, 1, 1), text);
                assertEquals(String.valueOf(response.body().length), response.header("Content-Length"));

                assertEquals(fields("active", 4, "accepts", 5, "handled", 5, "requests", 5, "reading", 2, "writing", 1, "waiting", 1),
                    Telegraf.parse(text));
                // dropped: accepts - handled; current: the requests since the metricset's last read (none).
                assertEquals(fields("active", 4, "accepts", 5, "handled", 5, "dropped", 0, "requests", 5, "current", 5, "reading", 2, "writing", 1,
                    "waiting", 1), new Metricbeat().parse(text));
                // printed for the README's sample
                System.out.print("stub_status of a real run:\n" + text);
            }
        }
    }

    /** @return the fields a collector reports, in its order */
    private static Map<String, Long> fields(Object... namesAndValues)
    {
        Map<String, Long> fields = new LinkedHashMap<>();
        for (int i = 0; i < namesAndValues.length; i += 2)
            fields.put((String)namesAndValues[i], ((Integer)namesAndValues[i + 1]).longValue());
        return fields;
    }

    /** The parsers are the collectors' own: they refuse what those refuse. */
    @Test
    public void theParsersRefuseWhatTheCollectorsRefuse()
    {
        String nginx = nginx(291, 16630948, 16630948, 31070465, 6, 179, 106);
        assertEquals(Map.of("active", 291L, "accepts", 16630948L, "handled", 16630948L, "requests", 31070465L, "reading", 6L, "writing", 179L,
            "waiting", 106L), Telegraf.parse(nginx));
        // Telegraf reads each line up to its newline: the last one's is needed.
        assertThrows(IllegalArgumentException.class, () -> Telegraf.parse(nginx.substring(0, nginx.length() - 1)));
        // strconv.ParseUint takes no sign.
        assertThrows(IllegalArgumentException.class, () -> Telegraf.parse(nginx.replace(": 291 ", ": +291 ")));
        // Metricbeat wants "Active connections: N" on the first line.
        assertThrows(IllegalArgumentException.class, () -> new Metricbeat().parse("\n" + nginx));
        assertThrows(IllegalArgumentException.class, () -> new Metricbeat().parse(nginx.replace("Writing:", "Writing")));
    }

    /**
     * Telegraf's nginx input ({@code gatherURL}), ported line by line from influxdata/telegraf
     * {@code plugins/inputs/nginx/nginx.go} (commit b27263146617cefe16c0b300107b58b111a7fa57): a
     * {@code bufio.Reader} read up to ':' then to '\n'; the numbers with
     * {@code strconv.ParseUint(s, 10, 64)}; the second and third lines split with
     * {@code strings.Fields}. Each Go error is an exception here.
     */
    static final class Telegraf
    {
        private final String body;
        private int at;

        private Telegraf(String body)
        {
            this.body = body;
        }

        /** {@code bufio.Reader.ReadString(delim)}: up to and including {@code delim}; an error at the end without it. */
        private String readString(char delim)
        {
            int end = body.indexOf(delim, at);
            if (end < 0)
                throw new IllegalArgumentException("EOF before '" + delim + "'");
            String read = body.substring(at, end + 1);
            at = end + 1;
            return read;
        }

        /** {@code strconv.ParseUint(s, 10, 64)}: decimal digits only. */
        private static long parseUint(String s)
        {
            if (!s.matches("[0-9]+"))
                throw new IllegalArgumentException("strconv.ParseUint: parsing \"" + s + "\": invalid syntax");
            return Long.parseUnsignedLong(s);
        }

        /** {@code strings.Fields}: split around runs of white space. */
        private static String[] fields(String line)
        {
            String trimmed = line.strip();
            return trimmed.isEmpty() ? new String[0] : trimmed.split("\\s+");
        }

        private static String index(String[] data, int i)
        {
            // Go panics: index out of range.
            if (i >= data.length)
                throw new IllegalArgumentException("index out of range [" + i + "] with length " + data.length);
            return data[i];
        }

        static Map<String, Long> parse(String body)
        {
            Telegraf r = new Telegraf(body);
            // Active connections
            r.readString(':');
            String line = r.readString('\n');
            long active = parseUint(line.strip());
            // Server accepts handled requests
            r.readString('\n');
            line = r.readString('\n');
            String[] data = fields(line);
            long accepts = parseUint(index(data, 0));
            long handled = parseUint(index(data, 1));
            long requests = parseUint(index(data, 2));
            // Reading/Writing/Waiting
            line = r.readString('\n');
            data = fields(line);
            long reading = parseUint(index(data, 1));
            long writing = parseUint(index(data, 3));
            long waiting = parseUint(index(data, 5));
            return Map.of("active", active, "accepts", accepts, "handled", handled, "requests", requests, "reading", reading, "writing", writing,
                "waiting", waiting);
        }
    }

    /**
     * Metricbeat's nginx stubstatus metricset ({@code eventMapping}), ported from elastic/beats
     * {@code metricbeat/module/nginx/stubstatus/data.go} (commit
     * 04fd051be3c53be9d7b052440d12c193bed23e68): a {@code bufio.Scanner} by lines, its three
     * regular expressions matched anywhere in their line, {@code strconv.Atoi}; {@code dropped} is
     * accepts - handled and {@code current} the requests since the previous read (kept here, as
     * the metricset keeps it).
     */
    static final class Metricbeat
    {
        private static final Pattern ACTIVE = Pattern.compile("Active connections: (\\d+)");
        private static final Pattern REQUEST = Pattern.compile("\\s(\\d+)\\s+(\\d+)\\s+(\\d+)");
        private static final Pattern CONN = Pattern.compile("Reading: (\\d+) Writing: (\\d+) Waiting: (\\d+)");

        private long requests;

        /** {@code bufio.ScanLines}: lines without their '\n' (and a '\r' before it); an empty text past the end. */
        private static String[] lines(String body)
        {
            String[] lines = body.split("\n", -1);
            for (int i = 0; i < lines.length; i++)
            {
                if (lines[i].endsWith("\r"))
                    lines[i] = lines[i].substring(0, lines[i].length() - 1);
            }
            return lines;
        }

        private static Matcher find(Pattern pattern, String[] lines, int i, String what)
        {
            Matcher m = pattern.matcher(i < lines.length ? lines[i] : "");
            if (!m.find())
                throw new IllegalArgumentException("cannot parse " + what + " from Nginx stub status");
            return m;
        }

        Map<String, Long> parse(String body)
        {
            String[] lines = lines(body);
            // Parse active connections.
            long active = Long.parseLong(find(ACTIVE, lines, 0, "active connections").group(1));
            // Skip request status headers (line 1), parse request status.
            Matcher m = find(REQUEST, lines, 2, "request status");
            long accepts = Long.parseLong(m.group(1));
            long handled = Long.parseLong(m.group(2));
            long total = Long.parseLong(m.group(3));
            long dropped = accepts - handled;
            long current = total - requests;
            requests = total;
            // Parse connection status.
            m = find(CONN, lines, 3, "connection status");
            return Map.of("active", active, "accepts", accepts, "handled", handled, "dropped", dropped, "requests", total, "current", current,
                "reading", Long.parseLong(m.group(1)), "writing", Long.parseLong(m.group(2)), "waiting", Long.parseLong(m.group(3)));
        }
    }
}
