package dev.connstate;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * A real headless Chromium (Debian's {@code chromium}) driven through the DevTools protocol with
 * the JDK's {@link WebSocket} and Jackson: one page (a target attached in flat mode), the
 * commands a test needs, and every console message, log entry, exception and CSP violation the
 * page produces, collected as {@link #problems()}.
 *
 * <p>It runs with a user-data directory of its own (where Chromium writes the port it chose,
 * {@code DevToolsActivePort}); {@link #close()} kills its whole process tree and deletes the
 * directory. Every wait is bounded.</p>
 */
public final class Chromium implements AutoCloseable
{
    /** The executable: Debian's package puts it on the PATH. */
    public static final String EXECUTABLE = "chromium";
    private static final Duration TIMEOUT = Duration.ofSeconds(30);
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Process process;
    private final Path userData;
    private final WebSocket socket;
    private final AtomicLong ids = new AtomicLong();
    private final Map<Long, CompletableFuture<JsonNode>> pending = new ConcurrentHashMap<>();
    private final List<String> problems = new ArrayList<>();
    private final StringBuilder partial = new StringBuilder();
    private String session;

    /**
     * Starts Chromium, headless, and opens one page, {@code about:blank}, of the given size.
     *
     * @param log where Chromium's own output goes
     */
    public Chromium(Path log, int width, int height) throws Exception
    {
        userData = Files.createTempDirectory("connstate-chromium");
        process = new ProcessBuilder(EXECUTABLE, "--headless=new", "--no-sandbox", "--disable-gpu", "--remote-debugging-port=0",
            "--user-data-dir=" + userData, "--no-first-run", "--no-default-browser-check", "--disable-extensions", "--disable-sync",
            "--disable-background-networking", "--disable-component-update", "--disable-breakpad", "--disable-crash-reporter",
            "--hide-scrollbars", "--mute-audio", "about:blank")
            .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        try
        {
            Path portFile = userData.resolve("DevToolsActivePort");
            List<String> lines = Wait.until("Chromium's DevToolsActivePort (log: " + log + ")", TIMEOUT, () -> read(portFile),
                l -> l.size() >= 2 || !process.isAlive());
            if (!process.isAlive())
                throw new IllegalStateException("Chromium exited with " + process.exitValue() + ": " + Files.readString(log));
            URI browser = URI.create("ws://127.0.0.1:" + lines.get(0).trim() + lines.get(1).trim());
            socket = HttpClient.newHttpClient().newWebSocketBuilder().connectTimeout(TIMEOUT).buildAsync(browser, new Listener())
                .get(TIMEOUT.toSeconds(), TimeUnit.SECONDS);
            String target = browser("Target.createTarget", Map.of("url", "about:blank")).get("targetId").asText();
            session = browser("Target.attachToTarget", Map.of("targetId", target, "flatten", true)).get("sessionId").asText();
            send("Page.enable", Map.of());
            send("Runtime.enable", Map.of());
            send("Log.enable", Map.of());
            // Runs before any script of each page: a violation of the page's policy becomes a problem.
            send("Page.addScriptToEvaluateOnNewDocument", Map.of("source",
                "document.addEventListener('securitypolicyviolation', function (e) { console.error('CSP violation: ' + e.violatedDirective + ' ' + e.blockedURI); });"));
            send("Emulation.setDeviceMetricsOverride", Map.of("width", width, "height", height, "deviceScaleFactor", 1, "mobile", false));
        }
        catch (Exception | Error x)
        {
            close();
            throw x;
        }
    }

    private static List<String> read(Path file)
    {
        try
        {
            return Files.exists(file) ? Files.readAllLines(file) : List.of();
        }
        catch (IOException x)
        {
            // Being written.
            return List.of();
        }
    }

    /** A command to the browser itself. */
    private JsonNode browser(String method, Map<String, Object> params) throws Exception
    {
        return call(null, method, params);
    }

    /**
     * Sends a command to the page and waits for its result.
     *
     * @return its {@code result}
     * @throws IllegalStateException with the protocol's error
     */
    public JsonNode send(String method, Map<String, Object> params) throws Exception
    {
        return call(session, method, params);
    }

    private JsonNode call(String sessionId, String method, Map<String, Object> params) throws Exception
    {
        long id = ids.incrementAndGet();
        ObjectNode message = JSON.createObjectNode();
        message.put("id", id);
        message.put("method", method);
        message.set("params", JSON.valueToTree(params));
        if (sessionId != null)
            message.put("sessionId", sessionId);
        CompletableFuture<JsonNode> answer = new CompletableFuture<>();
        pending.put(id, answer);
        socket.sendText(JSON.writeValueAsString(message), true).get(TIMEOUT.toSeconds(), TimeUnit.SECONDS);
        JsonNode response = answer.get(TIMEOUT.toSeconds(), TimeUnit.SECONDS);
        if (response.has("error"))
            throw new IllegalStateException(method + ": " + response.get("error"));
        return response.get("result");
    }

    /** Opens {@code url} in the page and waits until its document is loaded. */
    public void navigate(String url) throws Exception
    {
        send("Page.navigate", Map.of("url", url));
        Wait.until("the page at " + url + " to load", TIMEOUT, () -> evaluateOrNull("document.readyState === 'complete' && location.href"),
            href -> href != null && href.asText().equals(url));
    }

    /**
     * Evaluates an expression in the page.
     *
     * @return its value
     * @throws IllegalStateException if it threw
     */
    public JsonNode evaluate(String expression) throws Exception
    {
        JsonNode result = send("Runtime.evaluate", Map.of("expression", expression, "returnByValue", true));
        if (result.has("exceptionDetails"))
            throw new IllegalStateException(expression + ": " + result.get("exceptionDetails"));
        return result.get("result").get("value");
    }

    /**
     * @return what {@link #evaluate(String)} returns, or {@code null} while the page is between
     * documents (a reload)
     */
    public JsonNode evaluateOrNull(String expression)
    {
        try
        {
            return evaluate(expression);
        }
        catch (Exception x)
        {
            return null;
        }
    }

    /** Clicks the middle of the element {@code selector} names with the mouse, as a person does. */
    public void click(String selector) throws Exception
    {
        JsonNode box = evaluate("(function () { var r = document.querySelector(" + JSON.writeValueAsString(selector) +
            ").getBoundingClientRect(); return {x: r.x + r.width / 2, y: r.y + r.height / 2}; })()");
        for (String type : List.of("mousePressed", "mouseReleased"))
            send("Input.dispatchMouseEvent", Map.of("type", type, "x", box.get("x").asDouble(), "y", box.get("y").asDouble(), "button", "left",
                "clickCount", 1));
    }

    /** Types {@code text} into the element {@code selector} names, as the keyboard would insert it. */
    public void type(String selector, String text) throws Exception
    {
        evaluate("document.querySelector(" + JSON.writeValueAsString(selector) + ").focus()");
        send("Input.insertText", Map.of("text", text));
    }

    /** @return the page as a PNG, as the window shows it */
    public byte[] screenshot() throws Exception
    {
        return Base64.getDecoder().decode(send("Page.captureScreenshot", Map.of("format", "png")).get("data").asText());
    }

    /**
     * @return every console message, log entry, uncaught exception and policy violation of the
     * page so far
     */
    public synchronized List<String> problems()
    {
        return List.copyOf(problems);
    }

    private synchronized void event(JsonNode message)
    {
        String method = message.path("method").asText();
        JsonNode params = message.path("params");
        switch (method)
        {
            case "Runtime.consoleAPICalled" -> problems.add("console." + params.path("type").asText() + ": " + params.path("args"));
            case "Runtime.exceptionThrown" -> problems.add("exception: " + params.path("exceptionDetails"));
            case "Log.entryAdded" -> problems.add("log " + params.path("entry").path("level").asText() + ": " + params.path("entry").path("text").asText());
            default ->
            {
                // Not a problem.
            }
        }
    }

    private final class Listener implements WebSocket.Listener
    {
        @Override
        public CompletionStage<?> onText(WebSocket webSocket, CharSequence data, boolean last)
        {
            partial.append(data);
            if (last)
            {
                String text = partial.toString();
                partial.setLength(0);
                try
                {
                    JsonNode message = JSON.readTree(text);
                    if (message.has("id"))
                    {
                        CompletableFuture<JsonNode> answer = pending.remove(message.get("id").asLong());
                        if (answer != null)
                            answer.complete(message);
                    }
                    else
                        event(message);
                }
                catch (IOException x)
                {
                    synchronized (Chromium.this)
                    {
                        problems.add("unreadable DevTools message: " + x);
                    }
                }
            }
            webSocket.request(1);
            return null;
        }
    }

    /** Kills Chromium and every process it started, and deletes its user-data directory. */
    @Override
    public void close() throws Exception
    {
        try
        {
            // Children first, so that none is left behind its parent's death.
            List<ProcessHandle> tree = process.descendants().toList();
            tree.forEach(ProcessHandle::destroyForcibly);
            process.destroyForcibly();
            if (!process.waitFor(TIMEOUT.toSeconds(), TimeUnit.SECONDS))
                throw new IllegalStateException("Chromium did not die");
            for (ProcessHandle child : tree)
                child.onExit().get(TIMEOUT.toSeconds(), TimeUnit.SECONDS);
        }
        finally
        {
            try (Stream<Path> files = Files.walk(userData))
            {
                files.sorted(Comparator.reverseOrder()).forEach(path -> path.toFile().delete());
            }
        }
    }
}
