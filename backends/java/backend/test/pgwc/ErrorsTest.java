package pgwc;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.sql.BatchUpdateException;
import java.sql.SQLTransientConnectionException;
import org.junit.Test;
import org.postgresql.util.PSQLException;
import org.postgresql.util.PSQLState;
import org.postgresql.util.ServerErrorMessage;

public class ErrorsTest {
    private static PSQLException server(String state, String message) {
        return new PSQLException(new ServerErrorMessage("SERROR\0VERROR\0C" + state + "\0M" + message + "\0"));
    }

    @Test
    public void serverErrorsCarryTheirSqlstate() {
        ObjectNode e = Errors.classify(server("42P01", "relation \"nope\" does not exist"));
        assertEquals("sql", e.get("category").asText());
        assertEquals("42P01", e.get("sqlstate").asText());
        assertEquals("ERROR: relation \"nope\" does not exist", e.get("message").asText());
        assertEquals("authentication", Errors.classify(server("28P01", "password authentication failed for user \"u\"")).get("category").asText());
        assertEquals("timeout", Errors.classify(server("57014", "canceling statement due to statement timeout")).get("category").asText());
        assertEquals("connection", Errors.classify(server("57P01", "terminating connection due to administrator command")).get("category").asText());
    }

    @Test
    public void driverMadeErrorsHaveNoSqlstate() {
        ObjectNode e = Errors.classify(new PSQLException("Connection to 127.0.0.1:1 refused.", PSQLState.CONNECTION_UNABLE_TO_CONNECT));
        assertEquals("connection", e.get("category").asText());
        assertEquals("", e.get("sqlstate").asText());
        assertEquals("misuse", Errors.classify(new PSQLException("This statement has been closed.", PSQLState.OBJECT_NOT_IN_STATE)).get("category").asText());
        assertEquals("connection", Errors.classify(new IOException("reset")).get("category").asText());
    }

    @Test
    public void poolWaitsAndWrappedCausesAreClassified() {
        assertEquals("timeout", Errors.classify(new SQLTransientConnectionException("pool - Connection is not available, request timed out after 30000ms.")).get("category").asText());
        SQLTransientConnectionException refused = new SQLTransientConnectionException("timed out", "08001");
        assertEquals("connection", Errors.classify(refused).get("category").asText());
        RuntimeException init = new RuntimeException("Failed to initialize pool: FATAL: password authentication failed", server("28P01", "password authentication failed"));
        ObjectNode e = Errors.classify(init);
        assertEquals("authentication", e.get("category").asText());
        assertEquals("28P01", e.get("sqlstate").asText());
        BatchUpdateException batch = new BatchUpdateException("Batch entry 1 was aborted", "23505", new int[0]);
        batch.setNextException(server("23505", "duplicate key value violates unique constraint"));
        assertEquals("23505", Errors.classify(batch).get("sqlstate").asText());
        assertFalse(Errors.classify(new Fail(Fail.PROTOCOL, "x")).has("type"));
    }
}
