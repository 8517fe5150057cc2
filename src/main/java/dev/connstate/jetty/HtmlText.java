package dev.connstate.jetty;

/**
 * Escapes text for HTML, in element content and in quoted attribute values alike: {@code &},
 * {@code <}, {@code >}, {@code "} and {@code '} become character references. Every value the status
 * page shows goes through it: SNI host names, PROXY protocol addresses and protocols come from
 * clients. Stateless, any thread.
 */
final class HtmlText
{
    private HtmlText()
    {
    }

    /**
     * @param text any text; {@code null} is written as nothing
     * @return {@code text} appended to {@code out}, escaped
     */
    static StringBuilder escape(StringBuilder out, String text)
    {
        if (text == null)
            return out;
        for (int i = 0; i < text.length(); i++)
        {
            char c = text.charAt(i);
            switch (c)
            {
                case '&' -> out.append("&amp;");
                case '<' -> out.append("&lt;");
                case '>' -> out.append("&gt;");
                case '"' -> out.append("&quot;");
                case '\'' -> out.append("&#39;");
                default -> out.append(c);
            }
        }
        return out;
    }

    /**
     * @return {@code text}, escaped
     */
    static String escape(String text)
    {
        return escape(new StringBuilder(), text).toString();
    }
}
