import java.io.*;
import java.nio.file.*;
import java.util.*;
import java.util.regex.Pattern;
import org.apache.lucene.analysis.*;
import org.apache.lucene.analysis.core.LowerCaseFilter;
import org.apache.lucene.analysis.core.StopFilter;
import org.apache.lucene.analysis.pattern.PatternReplaceCharFilter;
import org.apache.lucene.analysis.ru.RussianAnalyzer;
import org.apache.lucene.analysis.snowball.SnowballFilter;
import org.apache.lucene.analysis.standard.StandardTokenizer;
import org.apache.lucene.analysis.tokenattributes.*;
import org.tartarus.snowball.ext.RussianStemmer;

/**
 * The initials char filter alone, in Lucene (no node): the .ru analysis (standard tokenizer,
 * lowercase, Russian stop words, Snowball Russian) of the texts in args[0] (one per line, "\\n"
 * for a newline; bench/analysis_bench.py --lucene writes them: every title, body and turn text
 * the .ru sub-fields analyse) with no char filter and with each pattern, in turns for args[1]
 * rounds; prints the median CPU microseconds per text and whether each pattern gives the first
 * pattern's tokens and offsets. Figures only.
 */
public class CharFilterBench {
    static Analyzer analyzer(String pattern) {
        Pattern p = pattern == null ? null : Pattern.compile(pattern);
        return new Analyzer() {
            protected TokenStreamComponents createComponents(String f) {
                Tokenizer t = new StandardTokenizer();
                TokenStream s = new SnowballFilter(new StopFilter(new LowerCaseFilter(t), RussianAnalyzer.getDefaultStopSet()), new RussianStemmer());
                return new TokenStreamComponents(t, s);
            }
            protected Reader initReader(String f, Reader r) { return p == null ? r : new PatternReplaceCharFilter(p, ". ", r); }
        };
    }
    static long run(Analyzer a, List<String> texts) throws IOException {
        long h = 0;
        for (String text : texts) {
            try (TokenStream ts = a.tokenStream("f", text)) {
                CharTermAttribute term = ts.addAttribute(CharTermAttribute.class);
                OffsetAttribute off = ts.addAttribute(OffsetAttribute.class);
                ts.reset();
                while (ts.incrementToken()) { h = h * 31 + term.toString().hashCode() + off.startOffset() * 7 + off.endOffset(); }
                ts.end();
            }
        }
        return h;
    }
    public static void main(String[] args) throws Exception {
        List<String> texts = new ArrayList<>();
        for (String line : Files.readAllLines(Path.of(args[0]))) texts.add(line.replace("\\n", "\n"));
        String[] names = {"none", "first", "shipped", "lookahead-first", "never-matches"};
        String[] patterns = {null, "(?<=\\p{L})\\.(?=\\p{L})", args[2], "\\.(?<=\\p{L}\\.)(?=\\p{L})", "\\x00"};
        Analyzer[] as = new Analyzer[names.length];
        for (int i = 0; i < names.length; i++) as[i] = analyzer(patterns[i]);
        long[] hashes = new long[names.length];
        for (int w = 0; w < 5; w++) for (int i = 0; i < names.length; i++) hashes[i] = run(as[i], texts);
        System.out.println("the first pattern's tokens and offsets: shipped " + (hashes[1] == hashes[2]) + ", lookahead-first " + (hashes[1] == hashes[3]));
        int rounds = Integer.parseInt(args[1]);
        double[][] us = new double[names.length][rounds];
        var bean = java.lang.management.ManagementFactory.getThreadMXBean();
        for (int r = 0; r < rounds; r++) for (int i = 0; i < names.length; i++) {
            long c0 = bean.getCurrentThreadCpuTime();
            run(as[i], texts);
            us[i][r] = (bean.getCurrentThreadCpuTime() - c0) / 1000.0 / texts.size();
        }
        for (int i = 0; i < names.length; i++) { double[] v = us[i].clone(); Arrays.sort(v); System.out.printf("%18s median %.1f us per text (min %.1f, max %.1f)%n", names[i], v[rounds / 2], v[0], v[rounds - 1]); }
    }
}
