package org.mfaingest.analysis;

import org.apache.lucene.analysis.TokenStream;
import org.apache.lucene.analysis.snowball.SnowballFilter;
import org.elasticsearch.plugin.NamedComponent;
import org.elasticsearch.plugin.analysis.TokenFilterFactory;
import org.tartarus.snowball.ext.RussianStemmer;

/**
 * The {@code russian_stem} token filter as Elasticsearch's built-in has it (analysis-common): the
 * Snowball Russian stemmer, the last step of the {@code russian} analyzer. With the server's
 * {@code lowercase} and {@code stop} ({@code _russian_}) filters it rebuilds that analyzer as a
 * custom one (the template's {@code russian_initials}).
 */
@NamedComponent("russian_stem")
public class RussianStemTokenFilterFactory implements TokenFilterFactory {
    @Override
    public TokenStream create(TokenStream tokenStream) {
        return new SnowballFilter(tokenStream, new RussianStemmer());
    }
}
