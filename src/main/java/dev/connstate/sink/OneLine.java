package dev.connstate.sink;

/**
 * Makes text safe for one line of a log: control characters (CR, LF, ESC, ...), DEL and the
 * Unicode line and paragraph separators become {@code \\uXXXX}, so that no value, client-sent
 * or configured, can start a line of its own or carry terminal escapes.
 *
 * <p>Which characters break a line is decided here, once: {@link Json} escapes the same ones
 * (see {@link #breaksLine(char)}). The two escapers stay two because the rest of their rules
 * differ: a log line shows a value as it was sent, quotes and backslashes included, and hands
 * characters to the logger's encoder; a JSON string must escape quotes and backslashes (its
 * grammar), unpaired surrogates (UTF-8 has no form for them), writes {@code \n}, {@code \r}
 * and {@code \t} in JSON's short forms, and is written as UTF-8 bytes for speed.</p>
 */
public final class OneLine
{
    private OneLine()
    {
    }

    /**
     * @param line where to append
     * @param text the text to append, escaped
     */
    public static void append(StringBuilder line, String text)
    {
        int length = text.length();
        int i = 0;
        while (i < length && !breaksLine(text.charAt(i)))
            i++;
        // Mostly nothing to escape: one copy.
        line.append(text, 0, i);
        for (; i < length; i++)
        {
            char c = text.charAt(i);
            if (breaksLine(c))
                line.append(String.format("\\u%04x", (int)c));
            else
                line.append(c);
        }
    }

    /**
     * @param c a character
     * @return whether {@code c} could end a line or drive a terminal: a control character, DEL,
     * U+2028 or U+2029
     */
    static boolean breaksLine(char c)
    {
        return c < 0x20 || c == 0x7f || c == '\u2028' || c == '\u2029';
    }

    /**
     * @param text any text, {@code null} included
     * @return the text escaped, {@code "null"} for {@code null}
     */
    public static String of(String text)
    {
        if (text == null)
            return "null";
        StringBuilder line = new StringBuilder(text.length());
        append(line, text);
        return line.toString();
    }
}
