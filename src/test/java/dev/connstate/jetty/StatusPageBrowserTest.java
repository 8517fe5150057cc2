package dev.connstate.jetty;

import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import com.fasterxml.jackson.databind.JsonNode;
import dev.connstate.Chromium;
import dev.connstate.Raw;
import dev.connstate.Tls;
import dev.connstate.Tools;
import dev.connstate.TrackedServer;
import dev.connstate.Wait;
import org.eclipse.jetty.server.ServerConnector;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The status page in a real headless Chromium ({@link Chromium}), on a real server holding known
 * connections: what a person sees (the counts, one row per connection, the filter, the sort), a
 * closed connection gone after the page reloads itself ({@code ?refresh=1}), and not one console
 * message, error or policy violation. It saves a screenshot to {@code target/connstate-page.png};
 * with {@code -Dconnstate.screenshot.update=true} also to {@code docs/images/connstate-page.png},
 * the README's.
 *
 * <p>{@code .ci/run} installs {@code chromium} when it is missing and sets
 * {@code -Dconnstate.tools.required=true}: there a missing Chromium fails the test. A plain
 * {@code mvn verify} on a machine without it skips it, saying so ({@link Tools}).</p>
 */
public class StatusPageBrowserTest
{
    private static final Path SCREENSHOT = Path.of("target/connstate-page.png");
    private static final Path README_SCREENSHOT = Path.of("docs/images/connstate-page.png");
    private static final String ROWS = "Array.prototype.slice.call(document.querySelectorAll('#connections tbody tr'))";
    private static final String VISIBLE = ROWS + ".filter(function (r) { return !r.hidden; })";

    @Test
    public void whatAPersonSees() throws Exception
    {
        Tools.assumeInstalled(Chromium.EXECUTABLE, "chromium");
        Files.createDirectories(SCREENSHOT.getParent());
        try (TrackedServer s = new TrackedServer())
        {
            s.addConnector();
            ServerConnector tls = s.addTlsConnector();
            ConnStateStatusHandler table = new ConnStateStatusHandler(s.tracker, "/connstate", "");
            table.setHandler(new TrackedServer.Hello());
            s.handler(table).start();
            int port = s.port();
            List<Socket> held = new ArrayList<>();
            try
            {
                // Idle: a keep-alive client from 127.0.0.5, and one over TLS that asked for shop.example.
                Socket idle = Raw.connect("127.0.0.5", port);
                held.add(idle);
                Raw.write(idle, "GET /hello HTTP/1.1\r\nHost: localhost\r\n\r\n");
                assertEquals("hello", Raw.read(idle.getInputStream()).text());
                Socket secure = Tls.connect(s.port(tls), "shop.example");
                held.add(secure);
                Raw.write(secure, "GET /hello HTTP/1.1\r\nHost: localhost\r\n\r\n");
                assertEquals("hello", Raw.read(secure.getInputStream()).text());
                // New: three silent clients, from 127.0.0.2, .3 and .4, accepted in that order.
                Wait.until("2 idle", () -> s.tracker.getIdleConnections() == 2);
                List<Socket> silent = new ArrayList<>();
                for (int i = 1; i <= 3; i++)
                {
                    Socket socket = Raw.connect("127.0.0." + (i + 1), port);
                    silent.add(socket);
                    held.add(socket);
                    int accepted = i;
                    Wait.until(accepted + " new", () -> s.tracker.getNewConnections() == accepted);
                }

                try (Chromium chrome = new Chromium(Path.of("target/chromium.log"), 1200, 720))
                {
                    String page = "http://127.0.0.1:" + port + "/connstate";
                    chrome.navigate(page);
                    assertEquals("Connections \u00b7 jetty-connstate", chrome.evaluate("document.title").asText());

                    // The counts, and one row per connection: the held ones and the browser's own: the
                    // one that asked, active, and any it opened ahead (Chromium may preconnect a second).
                    String secureClient = "127.0.0.1:" + secure.getLocalPort();
                    JsonNode browser = chrome.evaluate(ROWS + ".filter(function (r) { return r.dataset.client.indexOf('127.0.0.1:') === 0 && " +
                        "r.dataset.client !== '" + secureClient + "'; }).map(function (r) { return r.dataset.state; })");
                    Map<String, Integer> browserStates = new TreeMap<>(Map.of("new", 0, "active", 0, "idle", 0));
                    browser.forEach(state -> browserStates.merge(state.asText(), 1, Integer::sum));
                    assertEquals(1, browserStates.get("active"), "the browser's connections: " + browser);
                    int rows = 5 + browser.size();
                    Map<String, String> counts = new TreeMap<>();
                    for (String state : List.of("open", "new", "active", "idle"))
                        counts.put(state, chrome.evaluate("document.getElementById('count-" + state + "').textContent").asText());
                    assertEquals(Map.of("open", String.valueOf(rows), "new", String.valueOf(3 + browserStates.get("new")), "active", "1",
                        "idle", String.valueOf(2 + browserStates.get("idle"))), counts);
                    assertEquals(rows, chrome.evaluate(ROWS + ".length").asInt());
                    for (Socket socket : silent)
                    {
                        String client = socket.getLocalAddress().getHostAddress() + ":" + socket.getLocalPort();
                        assertEquals(List.of(String.valueOf(s.recorder.idOfClientPort(socket.getLocalPort())), "new", "0", "unknown", "-", client,
                            "127.0.0.1:" + port), row(chrome, client));
                    }
                    String idleClient = "127.0.0.5:" + idle.getLocalPort();
                    assertEquals(List.of(String.valueOf(s.recorder.idOfClientPort(idle.getLocalPort())), "idle", "1", "http/1.1", "-", idleClient,
                        "127.0.0.1:" + port), row(chrome, idleClient));
                    assertEquals(List.of(String.valueOf(s.recorder.idOfClientPort(secure.getLocalPort())), "idle", "1", "http/1.1",
                        "TLSv1.3 shop.example", secureClient, "127.0.0.1:" + s.port(tls)), row(chrome, secureClient));
                    // The oldest: the first silent client, and the plain keep-alive client (idle before the TLS one).
                    String oldestNew = chrome.evaluate("document.getElementById('oldest-new').textContent").asText();
                    assertTrue(oldestNew.endsWith(" \u00b7 #" + s.recorder.idOfClientPort(silent.get(0).getLocalPort()) + " \u00b7 127.0.0.2:" +
                        silent.get(0).getLocalPort()), oldestNew);
                    String oldestIdle = chrome.evaluate("document.getElementById('oldest-idle').textContent").asText();
                    assertTrue(oldestIdle.endsWith(" \u00b7 #" + s.recorder.idOfClientPort(idle.getLocalPort()) + " \u00b7 " + idleClient), oldestIdle);
                    assertEquals(rows + " of " + rows + " rows shown", chrome.evaluate("document.getElementById('shown').textContent").asText());
                    byte[] png = chrome.screenshot();
                    Files.write(SCREENSHOT, png);
                    if (Boolean.getBoolean("connstate.screenshot.update") && Files.isDirectory(Files.createDirectories(README_SCREENSHOT.getParent())))
                        Files.copy(SCREENSHOT, README_SCREENSHOT, StandardCopyOption.REPLACE_EXISTING);

                    // The filter: a client's text, then a state.
                    chrome.type("#client", "127.0.0.3");
                    assertEquals(List.of("127.0.0.3:" + silent.get(1).getLocalPort()), clients(chrome, VISIBLE));
                    assertEquals("1 of " + rows + " rows shown", chrome.evaluate("document.getElementById('shown').textContent").asText());
                    chrome.evaluate("var c = document.getElementById('client'); c.value = ''; c.dispatchEvent(new Event('input'));");
                    chrome.evaluate("var s = document.getElementById('state'); s.value = 'idle'; s.dispatchEvent(new Event('change'));");
                    assertEquals(sorted(idleClient, secureClient), sorted(clients(chrome, VISIBLE).toArray(String[]::new)));
                    chrome.evaluate("var s = document.getElementById('state'); s.value = ''; s.dispatchEvent(new Event('change'));");
                    assertEquals(rows, chrome.evaluate(VISIBLE + ".length").asInt());

                    // The sort: by client, then by id, descending (it starts ascending).
                    chrome.click("#connections thead th:nth-child(8)");
                    List<String> hosts = new ArrayList<>();
                    for (String client : clients(chrome, ROWS))
                        hosts.add(client.substring(0, client.lastIndexOf(':')));
                    List<String> expectedHosts = new ArrayList<>(java.util.Collections.nCopies(1 + browser.size(), "127.0.0.1"));
                    expectedHosts.addAll(List.of("127.0.0.2", "127.0.0.3", "127.0.0.4", "127.0.0.5"));
                    assertEquals(expectedHosts, hosts);
                    assertEquals("ascending", chrome.evaluate("document.querySelector('#connections thead th:nth-child(8)').getAttribute('aria-sort')").asText());
                    chrome.click("#connections thead th:nth-child(1)");
                    chrome.click("#connections thead th:nth-child(1)");
                    List<Long> ids = new ArrayList<>();
                    for (JsonNode id : chrome.evaluate(ROWS + ".map(function (r) { return Number(r.dataset.id); })"))
                        ids.add(id.asLong());
                    List<Long> descending = new ArrayList<>(ids);
                    descending.sort((a, b) -> Long.compare(b, a));
                    assertEquals(descending, ids);
                    assertEquals(rows, ids.size());
                    assertEquals(List.of(), chrome.problems());

                    // Reloading every second: a connection that closes leaves the page; the filter chosen stays.
                    chrome.evaluate("var s = document.getElementById('state'); s.value = 'new'; s.dispatchEvent(new Event('change'));");
                    chrome.navigate(page + "?refresh=1");
                    String gone = "tr[data-id=\"" + s.recorder.idOfClientPort(silent.get(1).getLocalPort()) + "\"]";
                    String stays = "tr[data-id=\"" + s.recorder.idOfClientPort(silent.get(0).getLocalPort()) + "\"]";
                    assertTrue(chrome.evaluate("document.querySelector('" + gone + "') !== null").asBoolean());
                    silent.get(1).close();
                    Wait.until("the closed connection's row to leave the reloaded page", Wait.TIMEOUT, () -> chrome.evaluateOrNull(
                        "document.querySelector('" + gone + "') === null && document.querySelector('" + stays + "') !== null"),
                        seen -> seen != null && seen.asBoolean());
                    // One snapshot: the count of open connections is the page's rows; the rows shown, the new ones.
                    assertEquals(true, chrome.evaluate("document.getElementById('count-open').textContent === String(" + ROWS + ".length)").asBoolean());
                    assertEquals("new", chrome.evaluate("document.getElementById('state').value").asText());
                    assertEquals(true, chrome.evaluate("document.getElementById('count-new').textContent === String(" + VISIBLE + ".length) && " +
                        VISIBLE + ".every(function (r) { return r.dataset.state === 'new'; })").asBoolean());
                    assertEquals(List.of(), chrome.problems());

                    // The problems are heard: a style the policy does not allow is one.
                    chrome.evaluate("var st = document.createElement('style'); st.textContent = 'body{color:red}'; document.head.appendChild(st); 1");
                    Wait.until("the policy's refusal heard", Wait.TIMEOUT, chrome::problems,
                        problems -> problems.stream().anyMatch(p -> p.contains("CSP violation: style-src")));
                }
            }
            finally
            {
                for (Socket socket : held)
                    socket.close();
            }
        }
    }

    /** @return the visible texts of the row of {@code client}, the two durations left out */
    private static List<String> row(Chromium chrome, String client) throws Exception
    {
        JsonNode cells = chrome.evaluate(ROWS + ".filter(function (r) { return r.dataset.client === '" + client + "'; })" +
            ".map(function (r) { return Array.prototype.map.call(r.cells, function (c) { return c.textContent; }); })");
        assertEquals(1, cells.size(), "rows of " + client + ": " + cells);
        List<String> texts = new ArrayList<>();
        for (int i = 0; i < cells.get(0).size(); i++)
        {
            // 2 and 3: the time in the state and the age, which the test cannot know.
            if (i != 2 && i != 3)
                texts.add(cells.get(0).get(i).asText());
        }
        return texts;
    }

    private static List<String> clients(Chromium chrome, String rows) throws Exception
    {
        List<String> clients = new ArrayList<>();
        for (JsonNode client : chrome.evaluate(rows + ".map(function (r) { return r.dataset.client; })"))
            clients.add(client.asText());
        return clients;
    }

    private static List<String> sorted(String... values)
    {
        List<String> list = new ArrayList<>(List.of(values));
        list.sort(null);
        return list;
    }
}
