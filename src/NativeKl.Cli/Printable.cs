using System.Globalization;
using System.Text;

namespace NativeKl.Cli;

internal static class Printable
{
    /// <summary>
    /// <paramref name="text"/> safe to quote in a one-line message: control, format and private-use
    /// characters, unassigned code points, lone surrogates and U+FFFD (a byte that is not UTF-8) as
    /// \xNN or \uNNNN escapes, at most <paramref name="max"/> characters with "..." when cut. A binary
    /// file named as CSV must not write its bytes to the terminal.
    /// </summary>
    internal static string Escape(string text, int max = 40)
    {
        var b = new StringBuilder();
        int i = 0;
        for (; i < text.Length && b.Length < max; i++)
        {
            char c = text[i];
            if (char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                b.Append(c).Append(text[++i]);
                continue;
            }
            var category = char.GetUnicodeCategory(c);
            bool unprintable = category is UnicodeCategory.Control or UnicodeCategory.Format or UnicodeCategory.Surrogate
                or UnicodeCategory.PrivateUse or UnicodeCategory.OtherNotAssigned or UnicodeCategory.LineSeparator
                or UnicodeCategory.ParagraphSeparator
                || c == '\uFFFD';
            if (!unprintable) b.Append(c);
            else if (c <= 0xFF) b.Append($"\\x{(int)c:x2}");
            else b.Append($"\\u{(int)c:x4}");
        }
        return i == text.Length && b.Length <= max ? b.ToString() : b.ToString(0, Math.Min(b.Length, max - 3)) + "...";
    }
}
