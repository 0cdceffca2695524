package pgwc;

import org.junit.runner.RunWith;
import org.junit.runners.Suite;

/** Every unit test of the Java backend; none needs a database. */
@RunWith(Suite.class)
@Suite.SuiteClasses({
    PlaceholdersTest.class,
    ValuesTest.class,
    DsnTest.class,
    ParamsTest.class,
    ErrorsTest.class,
    SerialQueueTest.class,
    FixtureMatchTest.class,
    FixturesTest.class,
    MemoryTest.class,
})
public class AllTests {}
