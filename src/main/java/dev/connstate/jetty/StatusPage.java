package dev.connstate.jetty;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Base64;
import java.util.Locale;

import dev.connstate.ConnState;
import dev.connstate.TlsInfo;

/**
 * Renders the status path's HTML page from a {@link StatusSnapshot}: one self-contained document
 * (its style and script inline, no other asset) with the counts per state, the oldest {@code new}
 * and {@code idle} connections, the totals since start, the drain, and one row per connection,
 * sortable by column and filterable by state and client in the browser.
 *
 * <p>The style and the script are constants: their SHA-256 hashes are computed once, when the
 * class loads, into {@link #CONTENT_SECURITY_POLICY}, which allows them and nothing else. Every
 * value is escaped ({@link HtmlText}); the script reads values from the table, never from text
 * it evaluates. Rendered on the status request's thread; stateless.</p>
 */
final class StatusPage
{
    /** The page's content type. */
    static final String CONTENT_TYPE = "text/html;charset=utf-8";

    private static final String STYLE = """
        body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1f2328;background:#fff;margin:0 auto;padding:16px 24px;max-width:1280px}
        h1{font-size:20px;margin:0 0 2px}
        h2{font-size:12px;font-weight:600;letter-spacing:.05em;text-transform:uppercase;color:#59636e;margin:0 0 6px}
        a{color:#0969da}
        .meta{color:#59636e;margin:0 0 14px}
        .num,dd,.n{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-variant-numeric:tabular-nums}
        .cards{display:flex;flex-wrap:wrap;gap:12px;margin:0 0 14px}
        .card{border:1px solid #d1d9e0;border-left:5px solid #59636e;border-radius:6px;padding:6px 16px;min-width:100px}
        .card .n{display:block;font-size:26px;font-weight:600}
        .card.new{border-left-color:#bf8700}.card.active{border-left-color:#0969da}.card.idle{border-left-color:#1a7f37}
        .facts{display:grid;grid-template-columns:repeat(auto-fit,minmax(270px,1fr));gap:12px;margin:0 0 14px}
        .facts section{border:1px solid #d1d9e0;border-radius:6px;padding:8px 14px}
        dl{display:grid;grid-template-columns:1fr auto;gap:1px 16px;margin:0}
        dt{color:#59636e}dd{margin:0;text-align:right}
        .note{background:#fff8c5;border:1px solid #d4a72c;border-radius:6px;padding:6px 12px}
        .filters{display:flex;flex-wrap:wrap;gap:16px;align-items:center;margin:8px 0}
        input,select{font:inherit;padding:2px 6px}
        #shown{color:#59636e}
        table{border-collapse:collapse;width:100%}
        th,td{padding:4px 10px;border-bottom:1px solid #d1d9e0;text-align:left;white-space:nowrap}
        th{background:#f6f8fa;cursor:pointer;user-select:none;position:sticky;top:0}
        th.num,td.num{text-align:right}
        th[aria-sort=ascending]::after{content:" \\25B2";font-size:10px}
        th[aria-sort=descending]::after{content:" \\25BC";font-size:10px}
        tbody tr:hover{background:#f6f8fa}
        .state{display:inline-block;min-width:44px;text-align:center;padding:0 8px;border-radius:10px;color:#fff;font-size:12px}
        .state.new{background:#9a6700}.state.active{background:#0969da}.state.idle{background:#1a7f37}
        """;

    private static final String SCRIPT = """
        (function () {
          'use strict';
          var table = document.getElementById('connections');
          var body = table.tBodies[0];
          var heads = table.tHead.rows[0].cells;
          var state = document.getElementById('state');
          var client = document.getElementById('client');
          var shown = document.getElementById('shown');
          // What the reader chose survives the page's reloads (?refresh=N), in this tab only.
          var key = 'connstate:' + location.pathname;
          var saved = {};
          try { saved = JSON.parse(sessionStorage.getItem(key)) || {}; } catch (e) { saved = {}; }
          function save() {
            try { sessionStorage.setItem(key, JSON.stringify(saved)); } catch (e) { /* no storage: nothing kept */ }
          }
          function filter() {
            var wanted = state.value, text = client.value.trim().toLowerCase(), n = 0;
            for (var i = 0; i < body.rows.length; i++) {
              var row = body.rows[i];
              var visible = (!wanted || row.dataset.state === wanted) && (!text || row.dataset.client.toLowerCase().indexOf(text) >= 0);
              row.hidden = !visible;
              if (visible) n++;
            }
            shown.textContent = n + ' of ' + body.rows.length + ' rows shown';
            saved.state = state.value;
            saved.client = client.value;
            save();
          }
          function sort(column, ascending) {
            var numeric = heads[column].dataset.sort === 'number';
            for (var i = 0; i < heads.length; i++) heads[i].removeAttribute('aria-sort');
            heads[column].setAttribute('aria-sort', ascending ? 'ascending' : 'descending');
            var rows = Array.prototype.slice.call(body.rows);
            rows.sort(function (a, b) {
              var x = a.cells[column].dataset.v, y = b.cells[column].dataset.v;
              var d = numeric ? x - y : x.localeCompare(y);
              return d !== 0 ? (ascending ? d : -d) : a.dataset.id - b.dataset.id;
            });
            rows.forEach(function (row) { body.appendChild(row); });
            saved.column = column;
            saved.ascending = ascending;
            save();
          }
          Array.prototype.forEach.call(heads, function (th, column) {
            function toggle() { sort(column, th.getAttribute('aria-sort') !== 'ascending'); }
            th.tabIndex = 0;
            th.addEventListener('click', toggle);
            th.addEventListener('keydown', function (e) {
              if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); toggle(); }
            });
          });
          if (typeof saved.state === 'string') state.value = saved.state;
          if (typeof saved.client === 'string') client.value = saved.client;
          if (typeof saved.column === 'number' && heads[saved.column]) sort(saved.column, saved.ascending === true);
          state.addEventListener('change', filter);
          client.addEventListener('input', filter);
          filter();
        })();
        """;

    /**
     * The page's policy: its own style and script by their hashes, a {@code data:} icon, nothing
     * else loaded, no base, forms only to itself, never framed.
     */
    static final String CONTENT_SECURITY_POLICY = "default-src 'none'; script-src '" + sha256(SCRIPT) + "'; style-src '" + sha256(STYLE) +
        "'; img-src data:; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss 'UTC'").withZone(ZoneOffset.UTC);

    private StatusPage()
    {
    }

    /** @return the CSP source of {@code inline}: {@code sha256-} and the Base64 of its UTF-8 bytes' hash */
    static String sha256(String inline)
    {
        try
        {
            byte[] hash = MessageDigest.getInstance("SHA-256").digest(inline.getBytes(StandardCharsets.UTF_8));
            return "sha256-" + Base64.getEncoder().encodeToString(hash);
        }
        catch (NoSuchAlgorithmException x)
        {
            // Every Java platform has SHA-256.
            throw new IllegalStateException(x);
        }
    }

    /**
     * @param snapshot what to show
     * @param refreshSeconds the reload interval the page says it has (the response's {@code Refresh}
     * header reloads it), 0 for none
     * @return the page
     */
    static String render(StatusSnapshot snapshot, int refreshSeconds)
    {
        StringBuilder html = new StringBuilder(4096 + snapshot.rows.size() * 640);
        html.append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">")
            .append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">")
            .append("<title>Connections \u00b7 jetty-connstate</title><link rel=\"icon\" href=\"data:,\">")
            .append("<style>").append(STYLE).append("</style></head>\n<body>\n");
        header(html, snapshot, refreshSeconds);
        cards(html, snapshot);
        facts(html, snapshot);
        if (snapshot.truncated())
            truncation(html, snapshot);
        rows(html, snapshot);
        html.append("<script>").append(SCRIPT).append("</script>\n</body></html>\n");
        return html.toString();
    }

    private static void header(StringBuilder html, StatusSnapshot snapshot, int refreshSeconds)
    {
        html.append("<header><h1>Connections</h1><p class=\"meta\">At <time id=\"time\">")
            .append(TIME.format(Instant.ofEpochMilli(snapshot.timeMillis))).append("</time> \u00b7 ");
        if (refreshSeconds > 0)
            html.append("reloads every ").append(refreshSeconds).append(" s (<a href=\"?format=html\">stop</a>)");
        else
            html.append("<a href=\"?format=html&amp;refresh=5\">reload every 5 s</a>");
        html.append(" \u00b7 <a href=\"?format=json\">JSON</a> \u00b7 <a href=\"?format=stub_status\">stub_status</a></p></header>\n");
    }

    private static void cards(StringBuilder html, StatusSnapshot snapshot)
    {
        html.append("<section class=\"cards\">");
        card(html, "open", snapshot.open());
        for (ConnState state : StatusSnapshot.OPEN_STATES)
            card(html, state.toString(), snapshot.counts.get(state));
        html.append("</section>\n");
    }

    private static void card(StringBuilder html, String name, long count)
    {
        html.append("<div class=\"card ").append(name).append("\"><span class=\"n\" id=\"count-").append(name).append("\">")
            .append(count).append("</span>").append(name).append("</div>");
    }

    private static void facts(StringBuilder html, StatusSnapshot snapshot)
    {
        html.append("<div class=\"facts\"><section><h2>Oldest</h2><dl>");
        oldest(html, "oldest-new", "new", snapshot.oldestNew);
        oldest(html, "oldest-idle", "idle", snapshot.oldestIdle);
        html.append("</dl></section>\n<section><h2>Since start</h2><dl>");
        StatusSnapshot.Totals totals = snapshot.totals;
        fact(html, "opened", "opened", totals.opened());
        fact(html, "closed", "closed", totals.closed());
        fact(html, "hijacked", "hijacked (upgrades, tunnels)", totals.hijacked());
        fact(html, "requests", "requests", totals.requests());
        fact(html, "races", "keep-alive races", totals.keepAliveRaces());
        fact(html, "rejected", "rejected (client caps)", totals.rejected());
        fact(html, "tls-failures", "TLS handshake failures", totals.tlsHandshakeFailures());
        html.append("</dl></section>\n<section><h2>Drain</h2><dl>");
        StatusSnapshot.Drain drain = snapshot.drain;
        html.append("<dt>state</dt><dd id=\"drain\">");
        if (drain.done())
            html.append("done in ").append(duration(drain.durationMillis()));
        else if (drain.draining())
            html.append("draining for ").append(duration(drain.durationMillis()));
        else if (drain.enabled())
            html.append("ready (runs at a graceful stop)");
        else
            html.append("off");
        html.append("</dd>");
        if (drain.draining())
        {
            fact(html, "drain-idle", "closed idle", drain.closedIdle());
            fact(html, "drain-finished", "finished their request", drain.finished());
            fact(html, "drain-new", "closed new after the grace", drain.closedNew());
            fact(html, "drain-forced", "forced at the deadline", drain.forced());
        }
        html.append("</dl></section></div>\n");
    }

    private static void oldest(StringBuilder html, String id, String label, StatusSnapshot.Row row)
    {
        html.append("<dt>").append(label).append("</dt><dd id=\"").append(id).append("\">");
        if (row == null)
            html.append("none");
        else
            HtmlText.escape(html.append(duration(row.stateMillis())).append(" \u00b7 #").append(row.id()).append(" \u00b7 "), row.remote());
        html.append("</dd>");
    }

    private static void fact(StringBuilder html, String id, String label, long value)
    {
        html.append("<dt>").append(label).append("</dt><dd id=\"").append(id).append("\">").append(value).append("</dd>");
    }

    private static void truncation(StringBuilder html, StatusSnapshot snapshot)
    {
        html.append("<p class=\"note\" id=\"truncated\">More connections than rows: each state shows its ")
            .append(snapshot.maxRowsPerState).append(" longest in it (maxRows).");
        for (ConnState state : StatusSnapshot.OPEN_STATES)
        {
            int count = snapshot.counts.get(state);
            html.append(' ').append(state).append(": ").append(Math.min(count, snapshot.maxRowsPerState)).append(" of ").append(count)
                .append(state == ConnState.IDLE ? "." : ",");
        }
        html.append("</p>\n");
    }

    private static void rows(StringBuilder html, StatusSnapshot snapshot)
    {
        html.append("<div class=\"filters\"><label>State <select id=\"state\"><option value=\"\">all</option>");
        for (ConnState state : StatusSnapshot.OPEN_STATES)
            html.append("<option>").append(state).append("</option>");
        html.append("</select></label><label>Client <input id=\"client\" type=\"search\" placeholder=\"address contains\" autocomplete=\"off\"></label>")
            .append("<span id=\"shown\">").append(snapshot.rows.size()).append(" rows</span></div>\n")
            .append("<table id=\"connections\"><thead><tr><th class=\"num\" data-sort=\"number\" aria-sort=\"ascending\">id</th>")
            .append("<th data-sort=\"number\">state</th><th class=\"num\" data-sort=\"number\">in state</th><th class=\"num\" data-sort=\"number\">age</th>")
            .append("<th class=\"num\" data-sort=\"number\">requests</th><th>protocol</th><th>TLS</th>")
            .append("<th>client</th><th>local</th></tr></thead>\n<tbody>\n");
        for (StatusSnapshot.Row row : snapshot.rows)
        {
            html.append("<tr data-id=\"").append(row.id()).append("\" data-state=\"").append(row.state()).append("\" data-client=\"");
            HtmlText.escape(html, row.remote()).append("\">");
            number(html, row.id(), String.valueOf(row.id()));
            html.append("<td data-v=\"").append(row.state().ordinal()).append("\"><span class=\"state ").append(row.state())
                .append("\">").append(row.state()).append("</span></td>");
            number(html, row.stateMillis(), duration(row.stateMillis()));
            number(html, row.ageMillis(), duration(row.ageMillis()));
            number(html, row.requests(), String.valueOf(row.requests()));
            text(html, row.protocol());
            text(html, tls(row));
            text(html, row.remote());
            text(html, row.local());
            html.append("</tr>\n");
        }
        html.append("</tbody></table>\n");
    }

    private static void number(StringBuilder html, long value, String shown)
    {
        html.append("<td class=\"num\" data-v=\"").append(value).append("\">").append(shown).append("</td>");
    }

    private static void text(StringBuilder html, String value)
    {
        HtmlText.escape(HtmlText.escape(html.append("<td data-v=\""), value).append("\">"), value).append("</td>");
    }

    /** @return the TLS column: the version and the SNI host, {@code handshaking}, or {@code -} for plain */
    private static String tls(StatusSnapshot.Row row)
    {
        if (!row.secure())
            return "-";
        TlsInfo tls = row.tls();
        if (tls == null)
            return "handshaking";
        return tls.sniHost() == null ? tls.protocol() : tls.protocol() + " " + tls.sniHost();
    }

    /**
     * @return {@code millis} for a reader: {@code 850 ms}, {@code 12.3 s}, {@code 4 min 05 s},
     * {@code 2 h 03 min}, {@code 3 d 04 h}
     */
    static String duration(long millis)
    {
        if (millis < 1000)
            return millis + " ms";
        if (millis < 60_000)
            return String.format(Locale.ROOT, "%d.%d s", millis / 1000, millis % 1000 / 100);
        long seconds = millis / 1000;
        if (seconds < 3600)
            return String.format(Locale.ROOT, "%d min %02d s", seconds / 60, seconds % 60);
        if (seconds < 86_400)
            return String.format(Locale.ROOT, "%d h %02d min", seconds / 3600, seconds % 3600 / 60);
        return String.format(Locale.ROOT, "%d d %02d h", seconds / 86_400, seconds % 86_400 / 3600);
    }
}
