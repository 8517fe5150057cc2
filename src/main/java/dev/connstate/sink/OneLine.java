package dev.connstate.sink;

/**
 * Makes text safe for one line of a log: control characters (CR, LF, ESC, ...), DEL and the
 * Unicode line and paragraph separators become {@code \\uXXXX}, so that no value, client-sent
 * or configured, can start a line of its own or carry terminal escapes.
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
        while (i < length && !unsafe(text.charAt(i)))
            i++;
        // Mostly nothing to escape: one copy.
        line.append(text, 0, i);
        for (; i < length; i++)
        {
            char c = text.charAt(i);
            if (unsafe(c))
                line.append(String.format("\\u%04x", (int)c));
            else
                line.append(c);
        }
    }

    private static boolean unsafe(char c)
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
