package org.mfaingest.analysis;

import org.apache.lucene.analysis.Analyzer;
import org.apache.lucene.analysis.ru.RussianAnalyzer;
import org.elasticsearch.plugin.NamedComponent;
import org.elasticsearch.plugin.analysis.AnalyzerFactory;

/**
 * The {@code russian} analyzer as Elasticsearch's built-in has it with no settings: Lucene's
 * RussianAnalyzer with its default stop words and no stem exclusions (standard tokenizer,
 * lowercase, Russian stop words, Snowball Russian stemmer).
 */
@NamedComponent("russian")
public class RussianAnalyzerFactory implements AnalyzerFactory {
    @Override
    public Analyzer create() {
        return new RussianAnalyzer();
    }
}
