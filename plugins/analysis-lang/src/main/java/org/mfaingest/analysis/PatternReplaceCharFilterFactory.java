package org.mfaingest.analysis;

import java.io.Reader;
import java.util.regex.Pattern;
import org.apache.lucene.analysis.pattern.PatternReplaceCharFilter;
import org.elasticsearch.plugin.Inject;
import org.elasticsearch.plugin.NamedComponent;
import org.elasticsearch.plugin.analysis.CharFilterFactory;
import org.elasticsearch.plugin.settings.AnalysisSettings;
import org.elasticsearch.plugin.settings.StringSetting;

/**
 * The {@code pattern_replace} character filter as Elasticsearch's built-in has it (analysis-common),
 * with its {@code pattern} and {@code replacement} settings: Lucene's PatternReplaceCharFilter, which
 * keeps the offsets of the original text (highlights). Applied to query terms too (normalize), as the
 * built-in is. The template's {@code initials_apart} filter uses it to part initials glued to a
 * surname ({@code В.В.Макеем}).
 */
@NamedComponent("pattern_replace")
public class PatternReplaceCharFilterFactory implements CharFilterFactory {
    private final Pattern pattern;
    private final String replacement;

    @AnalysisSettings
    public interface Settings {
        @StringSetting(path = "pattern", defaultValue = "")
        String pattern();

        @StringSetting(path = "replacement", defaultValue = "")
        String replacement();
    }

    @Inject
    public PatternReplaceCharFilterFactory(Settings settings) {
        // Elasticsearch also makes an instance without settings of every component type when it
        // builds an index's analysis (a default one): without a pattern it passes text through.
        this.pattern = settings.pattern().isEmpty() ? null : Pattern.compile(settings.pattern());
        this.replacement = settings.replacement();
    }

    @Override
    public Reader create(Reader reader) {
        return pattern == null ? reader : new PatternReplaceCharFilter(pattern, replacement, reader);
    }

    @Override
    public Reader normalize(Reader reader) {
        return create(reader);
    }
}
