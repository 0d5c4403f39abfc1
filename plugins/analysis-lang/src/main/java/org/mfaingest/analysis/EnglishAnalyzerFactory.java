package org.mfaingest.analysis;

import org.apache.lucene.analysis.Analyzer;
import org.apache.lucene.analysis.en.EnglishAnalyzer;
import org.elasticsearch.plugin.NamedComponent;
import org.elasticsearch.plugin.analysis.AnalyzerFactory;

/**
 * The {@code english} analyzer as Elasticsearch's built-in has it with no settings: Lucene's
 * EnglishAnalyzer with its default stop words and no stem exclusions (standard tokenizer,
 * English possessive filter, lowercase, stop words, Porter stemmer).
 */
@NamedComponent("english")
public class EnglishAnalyzerFactory implements AnalyzerFactory {
    @Override
    public Analyzer create() {
        return new EnglishAnalyzer();
    }
}
