package dev.connstate.jetty;

import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import dev.connstate.Raw;
import dev.connstate.TrackedServer;
import dev.connstate.Wait;
import dev.connstate.stress.JsonLinesCheck;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.ProxyConnectionFactory;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The status path's formats over real connections: which one {@code Accept} and {@code ?format=}
 * choose, the 400 of a query that cannot be served, the headers of each (the page's
 * Content-Security-Policy against the hashes of what it inlines), the access rule for all of them,
 * the bound of rows per state, and client input escaped on the page.
 */
public class StatusFormatsTest
{
    private static final String CHROME_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,image/apng,*/*;q=0.8," +
        "application/signed-exchange;v=b3;q=0.7";
    private static final String JSON = "application/json";
    private static final String HTML = "text/html;charset=utf-8";
    private static final String STUB = "text/plain";

    /** Starts {@code s} with the table in front of its handler, behind the PROXY protocol. */
    private static TrackedServer startBehindProxy(TrackedServer s) throws Exception
    {
        HttpConnectionFactory http = new HttpConnectionFactory(s.httpConfig);
        s.addConnector(new ProxyConnectionFactory(http.getProtocol()), http);
        return start(s, 1000);
    }

    private static TrackedServer start(TrackedServer s, int maxRows) throws Exception
    {
        ConnStateStatusHandler table = new ConnStateStatusHandler(s.tracker, "/connstate", "", maxRows);
        table.setHandler(new TrackedServer.Hello());
        s.handler(table);
        return s.start();
    }

    /** One request on a connection of its own, closed after the response. */
    private static Raw.Response get(int port, String target, String accept) throws Exception
    {
        try (Socket socket = Raw.connect(port))
        {
            Raw.write(socket, "GET " + target + " HTTP/1.1\r\nHost: localhost\r\n" + (accept == null ? "" : "Accept: " + accept + "\r\n") +
                "Connection: close\r\n\r\n");
            return Raw.read(socket.getInputStream());
        }
    }

    @Test
    public void acceptChoosesHtmlOrJson() throws Exception
    {
        Map<String, String> cases = new LinkedHashMap<>();
        cases.put(null, JSON);
        cases.put("*/*", JSON);
        cases.put(CHROME_ACCEPT, HTML);
        cases.put("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", HTML);
        cases.put("application/xhtml+xml", HTML);
        cases.put("TEXT/HTML", HTML);
        cases.put("application/json, text/html;q=0.5", JSON);
        cases.put("text/html;q=0.5, application/json", JSON);
        cases.put("application/json;q=0.1, text/html;q=0.2", HTML);
        // Not acceptable at all: q=0.
        cases.put("text/html;q=0, */*", JSON);
        // Equal quality: the more specific first.
        cases.put("*/*, text/html", HTML);
        cases.put("application/*;q=0.9, text/html;q=0.8", JSON);
        // Neither HTML nor JSON named: JSON, as before there was a page.
        cases.put("text/plain", JSON);
        cases.put("image/png, text/*", JSON);
        try (TrackedServer s = start(new TrackedServer(), 1000))
        {
            for (Map.Entry<String, String> c : cases.entrySet())
            {
                Raw.Response response = get(s.port(), "/connstate", c.getKey());
                assertEquals(200, response.status(), "Accept: " + c.getKey());
                assertEquals(c.getValue(), response.header("Content-Type"), "Accept: " + c.getKey());
                assertEquals("Accept", response.header("Vary"), "Accept: " + c.getKey());
            }
        }
    }

    @Test
    public void formatForcesOne() throws Exception
    {
        try (TrackedServer s = start(new TrackedServer(), 1000))
        {
            assertEquals(HTML, get(s.port(), "/connstate?format=html", "application/json").header("Content-Type"));
            assertEquals(JSON, get(s.port(), "/connstate?format=json", CHROME_ACCEPT).header("Content-Type"));
            assertEquals(STUB, get(s.port(), "/connstate?format=stub_status", CHROME_ACCEPT).header("Content-Type"));
            // Other parameters are left alone.
            assertEquals(JSON, get(s.port(), "/connstate?x=1&format=json&y", CHROME_ACCEPT).header("Content-Type"));
            // Only the path: anything else goes on to the server's handler.
            assertEquals("hello", get(s.port(), "/connstate/more?format=html", null).text());
        }
    }

    @Test
    public void aQueryThatCannotBeServedGets400NamingTheParameterAndTheValue() throws Exception
    {
        Map<String, String> cases = new LinkedHashMap<>();
        cases.put("format=xml", "format=xml: unknown format (known: json, html, stub_status)\n");
        cases.put("format=", "format=: unknown format (known: json, html, stub_status)\n");
        cases.put("format=HTML", "format=HTML: unknown format (known: json, html, stub_status)\n");
        cases.put("format=%3Cb%3E", "format=<b>: unknown format (known: json, html, stub_status)\n");
        cases.put("format=json&format=html", "format is given 2 times (json, html): give it once\n");
        cases.put("format=html&refresh=0", "refresh=0: must be a whole number of seconds from 1 to 3600\n");
        cases.put("refresh=3601", "refresh=3601: must be a whole number of seconds from 1 to 3600\n");
        cases.put("refresh=-5", "refresh=-5: must be a whole number of seconds from 1 to 3600\n");
        cases.put("refresh=1.5", "refresh=1.5: must be a whole number of seconds from 1 to 3600\n");
        cases.put("refresh=99999999999", "refresh=99999999999: must be a whole number of seconds from 1 to 3600\n");
        cases.put("refresh=", "refresh=: must be a whole number of seconds from 1 to 3600\n");
        cases.put("refresh=+5", "refresh= 5: must be a whole number of seconds from 1 to 3600\n");
        try (TrackedServer s = start(new TrackedServer(), 1000))
        {
            for (Map.Entry<String, String> c : cases.entrySet())
            {
                Raw.Response response = get(s.port(), "/connstate?" + c.getKey(), CHROME_ACCEPT);
                assertEquals(400, response.status(), c.getKey());
                assertEquals("text/plain;charset=utf-8", response.header("Content-Type"), c.getKey());
                assertEquals("nosniff", response.header("X-Content-Type-Options"), c.getKey());
                assertEquals("no-store", response.header("Cache-Control"), c.getKey());
                assertEquals(c.getValue(), response.text(), c.getKey());
            }
        }
    }

    @Test
    public void eachFormatsHeadersAndThePagesPolicyHashesWhatItInlines() throws Exception
    {
        try (TrackedServer s = start(new TrackedServer(), 1000))
        {
            for (String format : List.of("json", "html", "stub_status"))
            {
                Raw.Response response = get(s.port(), "/connstate?format=" + format, null);
                assertEquals("no-store", response.header("Cache-Control"), format);
                assertEquals("nosniff", response.header("X-Content-Type-Options"), format);
                assertEquals(format.equals("html") ? StatusPage.CONTENT_SECURITY_POLICY : null, response.header("Content-Security-Policy"), format);
                assertNull(response.header("Refresh"), format);
            }
            Raw.Response page = get(s.port(), "/connstate?refresh=7", CHROME_ACCEPT);
            assertEquals("7", page.header("Refresh"));
            String html = page.text();
            // The policy allows exactly the one script and the one style the page holds, by their hashes.
            List<String> scripts = inline(html, "script");
            List<String> styles = inline(html, "style");
            assertEquals(1, scripts.size(), html);
            assertEquals(1, styles.size(), html);
            assertEquals("default-src 'none'; script-src '" + sha256(scripts.get(0)) + "'; style-src '" + sha256(styles.get(0)) +
                "'; img-src data:; base-uri 'none'; form-action 'self'; frame-ancestors 'none'", page.header("Content-Security-Policy"));
            // No attribute that the policy would block: no inline style or handler, nothing loaded but the data: icon.
            assertFalse(Pattern.compile("\\s(style|on[a-z]+)=").matcher(html).find(), html);
            assertEquals(List.of("data:,"), attributes(html, "(?:src|href)").stream().filter(v -> !v.startsWith("?")).toList(), html);
            assertTrue(html.contains("reloads every 7 s (<a href=\"?format=html\">stop</a>)"), html);
        }
    }

    private static List<String> inline(String html, String tag)
    {
        List<String> found = new ArrayList<>();
        Matcher m = Pattern.compile("<" + tag + ">(.*?)</" + tag + ">", Pattern.DOTALL).matcher(html);
        while (m.find())
            found.add(m.group(1));
        return found;
    }

    private static List<String> attributes(String html, String name)
    {
        List<String> found = new ArrayList<>();
        Matcher m = Pattern.compile("\\s" + name + "=\"([^\"]*)\"").matcher(html);
        while (m.find())
            found.add(m.group(1));
        return found;
    }

    private static String sha256(String text) throws Exception
    {
        return "sha256-" + Base64.getEncoder().encodeToString(MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8)));
    }

    /** Outsiders get 403 for every format, before their query is looked at. */
    @Test
    public void outsidersGet403InEveryFormat() throws Exception
    {
        try (TrackedServer s = new TrackedServer())
        {
            startBehindProxy(s);
            for (String query : List.of("", "?format=html", "?format=stub_status", "?format=json", "?format=xml", "?refresh=0"))
            {
                try (Socket socket = Raw.connect(s.port()))
                {
                    Raw.write(socket, "PROXY TCP4 192.0.2.7 192.0.2.1 1234 443\r\nGET /connstate" + query + " HTTP/1.1\r\nHost: localhost\r\n" +
                        "Accept: " + CHROME_ACCEPT + "\r\nConnection: close\r\n\r\n");
                    assertEquals(403, Raw.read(socket.getInputStream()).status(), query);
                }
            }
        }
    }

    /** Above maxRows a state shows those longest in it, and both JSON and the page say so. */
    @Test
    public void aboveMaxRowsEachStateShowsItsLongest() throws Exception
    {
        try (TrackedServer s = start(new TrackedServer(), 2))
        {
            List<Socket> silent = new ArrayList<>();
            List<Long> silentIds = new ArrayList<>();
            try (Socket idle = Raw.connect(s.port()); Socket asking = Raw.connect(s.port()))
            {
                for (int i = 0; i < 3; i++)
                {
                    Socket socket = Raw.connect("127.0.0." + (2 + i), s.port());
                    silent.add(socket);
                    silentIds.add(s.recorder.idOfClientPort(socket.getLocalPort()));
                }
                Raw.write(idle, "GET /hello HTTP/1.1\r\nHost: localhost\r\n\r\n");
                assertEquals("hello", Raw.read(idle.getInputStream()).text());
                // The silent three and the one about to ask are new.
                Wait.until("4 new and 1 idle", () -> s.tracker.getNewConnections() == 4 && s.tracker.getIdleConnections() == 1);

                Raw.write(asking, "GET /connstate?format=json HTTP/1.1\r\nHost: localhost\r\n\r\n");
                String body = Raw.read(asking.getInputStream()).text();
                Map<String, Object> table = JsonLinesCheck.parseObject(body, "the table");
                assertEquals(List.of("time", "counts", "shownPerState", "truncated", "connections"), List.copyOf(table.keySet()), body);
                assertEquals(Map.of("new", 3L, "active", 1L, "idle", 1L), table.get("counts"), body);
                assertEquals(2L, table.get("shownPerState"), body);
                assertEquals(true, table.get("truncated"), body);
                // The two silent connections new the longest (the first two), the idle one, the one asking; by id.
                List<Long> expected = new ArrayList<>(List.of(silentIds.get(0), silentIds.get(1),
                    s.recorder.idOfClientPort(idle.getLocalPort()), s.recorder.idOfClientPort(asking.getLocalPort())));
                expected.sort(Long::compare);
                assertEquals(expected, ids(table), body);

                Raw.write(asking, "GET /connstate?format=html HTTP/1.1\r\nHost: localhost\r\n\r\n");
                String html = Raw.read(asking.getInputStream()).text();
                assertTrue(html.contains("<p class=\"note\" id=\"truncated\">More connections than rows: each state shows its 2 longest in it " +
                    "(maxRows). new: 2 of 3, active: 1 of 1, idle: 1 of 1.</p>"), html);
                List<Long> rows = new ArrayList<>();
                Matcher m = Pattern.compile("<tr data-id=\"(\\d+)\"").matcher(html);
                while (m.find())
                    rows.add(Long.parseLong(m.group(1)));
                assertEquals(expected, rows, html);
                assertTrue(html.contains("<span class=\"n\" id=\"count-new\">3</span>"), html);
                // The oldest new connection is the first silent one, from 127.0.0.2.
                assertTrue(Pattern.compile("<dd id=\"oldest-new\">[0-9.]+ (ms|s) \u00b7 #" + silentIds.get(0) + " \u00b7 127\\.0\\.0\\.2:" +
                    silent.get(0).getLocalPort() + "</dd>").matcher(html).find(), html);
            }
            finally
            {
                for (Socket socket : silent)
                    socket.close();
            }
        }
    }

    @SuppressWarnings("unchecked")
    private static List<Long> ids(Map<String, Object> table)
    {
        List<Long> ids = new ArrayList<>();
        for (Object row : (Object[])table.get("connections"))
            ids.add((Long)((Map<String, Object>)row).get("id"));
        return ids;
    }

    @Test
    public void theEscaperEscapesWhatHtmlReads()
    {
        assertEquals("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp;amp; &quot;q&quot;", HtmlText.escape("<script>alert('x')</script> &amp; \"q\""));
        assertEquals("plain 127.0.0.1:80 [::1]:443 \u00e9", HtmlText.escape("plain 127.0.0.1:80 [::1]:443 \u00e9"));
        assertEquals("", HtmlText.escape(null));
    }

    @Test
    public void durationsForAReader()
    {
        assertEquals("0 ms", StatusPage.duration(0));
        assertEquals("850 ms", StatusPage.duration(850));
        assertEquals("12.3 s", StatusPage.duration(12_345));
        assertEquals("4 min 05 s", StatusPage.duration(245_000));
        assertEquals("2 h 03 min", StatusPage.duration(7_380_000));
        assertEquals("3 d 04 h", StatusPage.duration(273_600_000));
    }

    @Test
    public void maxRowsIsBounded()
    {
        assertEquals("The rows per state must be between 1 and 1000000: 0",
            assertThrows(IllegalArgumentException.class, () -> new ConnStateStatusHandler(null, "/s", "", 0)).getMessage());
        assertEquals("The rows per state must be between 1 and 1000000: 1000001",
            assertThrows(IllegalArgumentException.class, () -> new ConnStateStatusHandler(null, "/s", "", 1_000_001)).getMessage());
        assertEquals(1000, new ConnStateStatusHandler(null, "/s", "").getMaxRows());
    }

    /**
     * A PROXY protocol v1 header is client input that reaches the page (the client's address):
     * markup in it is shown as text, never parsed.
     */
    @Test
    public void aHostileProxyAddressIsEscapedOnThePage() throws Exception
    {
        try (TrackedServer s = new TrackedServer())
        {
            startBehindProxy(s);
            String hostile = "<img/src=x/onerror=alert(1)>\"'&";
            try (Socket proxied = Raw.connect(s.port()))
            {
                // The header alone: the connection holds its client, new, with no request yet.
                Raw.write(proxied, "PROXY TCP4 " + hostile + " 192.0.2.1 1234 443\r\n");
                Wait.until("the proxied connection's client", () -> s.tracker.getOpenConnections().stream().anyMatch(c -> c.remoteAddress().contains("<img")));
                try (Socket asking = Raw.connect(s.port()))
                {
                    Raw.write(asking, "PROXY TCP4 127.0.0.1 192.0.2.1 1235 443\r\nGET /connstate?format=html HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
                    String html = Raw.read(asking.getInputStream()).text();
                    String escaped = "&lt;img/src=x/onerror=alert(1)&gt;&quot;&#39;&amp;:1234";
                    assertFalse(html.contains("<img"), html);
                    assertTrue(html.contains("data-client=\"" + escaped + "\""), html);
                    assertTrue(html.contains("<td data-v=\"" + escaped + "\">" + escaped + "</td>"), html);
                }
            }
        }
    }
}
