package dev.connstate.jetty;

import java.util.List;

import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.QuotedQualityCSV;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.util.Fields;

/**
 * Decides what a request to the status path asks for: the format ({@code ?format=json|html|stub_status},
 * else negotiated from {@code Accept}) and the page's reload interval ({@code ?refresh=N}).
 *
 * <p>{@code Accept} is read by quality ({@link QuotedQualityCSV}, the most specific media type
 * first among equals): the first acceptable type that names HTML ({@code text/html},
 * {@code application/xhtml+xml}) gives the page, the first that names JSON or any type
 * ({@code application/json}, {@code application/*}, {@code *}{@code /*}) gives JSON; without
 * either, JSON, as before there was a page (curl sends {@code *}{@code /*}). Made on the status
 * request's thread; immutable.</p>
 *
 * @param format what to write
 * @param refreshSeconds how often the page reloads itself, in seconds; 0 for never
 */
record StatusQuery(Format format, int refreshSeconds)
{
    /** The query parameter that forces a format. */
    static final String FORMAT = "format";
    /** The query parameter that makes the page reload itself every N seconds. */
    static final String REFRESH = "refresh";
    /** The longest reload interval, in seconds: an hour. */
    static final int MAX_REFRESH_SECONDS = 3600;

    /** The formats the status path writes, by their name in {@code ?format=}. */
    enum Format
    {
        JSON("json"), HTML("html"), STUB_STATUS("stub_status");

        private final String parameter;

        Format(String parameter)
        {
            this.parameter = parameter;
        }

        /** @return the name {@code ?format=} gives it */
        String parameter()
        {
            return parameter;
        }
    }

    /**
     * @param request a request to the status path
     * @return what it asks for
     * @throws IllegalArgumentException with the one line to answer 400 with, naming the parameter
     * and the value, if the query cannot be served
     */
    static StatusQuery of(Request request)
    {
        Fields query;
        try
        {
            query = Request.extractQueryParameters(request);
        }
        catch (RuntimeException x)
        {
            throw new IllegalArgumentException("The query cannot be decoded: " + request.getHttpURI().getQuery());
        }
        String format = single(query, FORMAT);
        String refresh = single(query, REFRESH);
        return new StatusQuery(format == null ? negotiate(request) : format(format), refresh == null ? 0 : refresh(refresh));
    }

    /** @return the one value of {@code name}, {@code null} if absent */
    private static String single(Fields query, String name)
    {
        List<String> values = query.getValues(name);
        if (values == null || values.isEmpty())
            return null;
        if (values.size() > 1)
            throw new IllegalArgumentException(name + " is given " + values.size() + " times (" + String.join(", ", values) + "): give it once");
        return values.get(0);
    }

    private static Format format(String value)
    {
        for (Format format : Format.values())
        {
            if (format.parameter.equals(value))
                return format;
        }
        throw new IllegalArgumentException(FORMAT + "=" + value + ": unknown format (known: json, html, stub_status)");
    }

    private static int refresh(String value)
    {
        String problem = REFRESH + "=" + value + ": must be a whole number of seconds from 1 to " + MAX_REFRESH_SECONDS;
        // Digits only: no sign, no blank, no exponent; at most 4 of them, so that no parse overflows.
        if (!value.matches("[0-9]{1,4}"))
            throw new IllegalArgumentException(problem);
        int seconds = Integer.parseInt(value);
        if (seconds < 1 || seconds > MAX_REFRESH_SECONDS)
            throw new IllegalArgumentException(problem);
        return seconds;
    }

    /** @return the format {@code request}'s {@code Accept} prefers: HTML or JSON */
    static Format negotiate(Request request)
    {
        // Sorted by quality, then the most specific first; q=0 (not acceptable) is left out.
        List<String> accepted = request.getHeaders().getQualityCSV(HttpHeader.ACCEPT, QuotedQualityCSV.MOST_SPECIFIC_MIME_ORDERING);
        for (String type : accepted)
        {
            String mediaType = type.toLowerCase(java.util.Locale.ROOT);
            int semicolon = mediaType.indexOf(';');
            if (semicolon >= 0)
                mediaType = mediaType.substring(0, semicolon);
            switch (mediaType.trim())
            {
                case "text/html", "application/xhtml+xml" ->
                {
                    return Format.HTML;
                }
                case "application/json", "application/*", "*/*" ->
                {
                    return Format.JSON;
                }
                default ->
                {
                    // Neither: the next one decides.
                }
            }
        }
        return Format.JSON;
    }
}
