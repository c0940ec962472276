"""What a word finds: its other forms (stems, accents, case) both ways, on both databases;
words spread over a ticket's texts; attachment names; parts of an ID; punctuation."""

from __future__ import annotations

import pytest

from atiende.tickets import services
from tests.conftest import Cast
from tests.search.support import OpenTicket, found, hit_for, text_file

# (what the ticket says, what is typed)
FORMS = [
    ("Tengo problemas con mis dominios", "dominio"),
    ("No resuelve el dominio", "dominios"),
    ("Error en la configuración del correo", "configuracion"),
    ("Error en la configuracion del correo", "configuración"),
    ("Revisen las configuraciones, por favor", "configuración"),
    ("Revisen las configuraciones, por favor", "configuracion"),
    ("Cambié la contraseña ayer", "contrasenas"),
    ("Las páginas no cargan", "PAGINA"),
    ("Renovación anual del certificado", "renovaciones"),
    ("The domains expired last week", "domain"),
    ("CAMIÓN de mudanza", "camión"),
]


class TestForms:
    @pytest.mark.parametrize(("text", "typed"), FORMS)
    def test_a_word_finds_its_other_forms_in_a_message(
        self, cast: Cast, open_ticket: OpenTicket, text: str, typed: str
    ) -> None:
        ticket = open_ticket(subject="Consulta", body=text)
        open_ticket(subject="Otra consulta", body="Nada que ver con aquello.")

        assert found(cast.ana, typed) == [ticket]

    @pytest.mark.parametrize(("text", "typed"), FORMS)
    def test_and_in_a_subject(
        self, cast: Cast, open_ticket: OpenTicket, text: str, typed: str
    ) -> None:
        ticket = open_ticket(subject=text, body="Gracias de antemano.")

        assert found(cast.ana, typed) == [ticket]

    def test_words_that_are_not_there_find_nothing(
        self, cast: Cast, open_ticket: OpenTicket
    ) -> None:
        open_ticket(subject="Dominio vencido", body="Renovar el dominio")

        assert found(cast.ana, "dominical") == []
        assert found(cast.ana, "vencimientos hosting") == []


class TestWhereTheWordsAre:
    def test_each_word_may_be_in_another_text_of_the_ticket(
        self, cast: Cast, open_ticket: OpenTicket
    ) -> None:
        ticket = open_ticket(subject="Servidor caído", body="Desde la mañana")
        services.ticket_reply(ticket=ticket, author=cast.agent, body="Reiniciamos el respaldo")
        open_ticket(subject="Servidor lento", body="Sin respuesta")

        assert found(cast.ana, "servidor respaldo mañana") == [ticket]

    def test_function_words_are_not_required(self, cast: Cast, open_ticket: OpenTicket) -> None:
        ticket = open_ticket(subject="Correo", body="Imposible entrar al webmail")

        assert found(cast.ana, "no puedo entrar a mi webmail") == []  # "puedo" is not there
        assert found(cast.ana, "entrar a mi webmail") == [ticket]
        assert found(cast.ana, "de la") == []

    def test_a_word_of_an_attachments_name(self, cast: Cast, open_ticket: OpenTicket) -> None:
        ticket = open_ticket(
            subject="Adjunto lo pedido",
            body="Ahí va.",
            files=[text_file("contrato-hosting_2024.txt")],
        )
        later = open_ticket(subject="Otro", body="Sin archivo")
        services.ticket_reply(
            ticket=later, author=cast.ana, body="Y la captura", files=[text_file("captura.txt")]
        )

        assert found(cast.ana, "contrato") == [ticket]
        assert found(cast.ana, "hosting 2024") == [ticket]
        assert found(cast.ana, "contrato-hosting_2024.txt") == [ticket]
        assert found(cast.ana, "captura") == [later]
        snippet = hit_for(cast.ana, "contrato", ticket).snippet
        assert "<mark>contrato</mark>-hosting_2024.txt" in snippet

    def test_a_domain_or_an_address_in_a_message_finds_by_its_parts(
        self, cast: Cast, open_ticket: OpenTicket
    ) -> None:
        ticket = open_ticket(
            subject="DNS", body="El sitio www.mi-tienda.com.mx y el buzón ventas@mi-tienda.mx"
        )

        for typed in ("mi-tienda.com.mx", "tienda", "ventas@mi-tienda.mx", "ventas"):
            assert found(cast.ana, typed) == [ticket], typed

    def test_a_part_of_the_id_finds_the_ticket(self, cast: Cast, open_ticket: OpenTicket) -> None:
        ticket = open_ticket()
        open_ticket()
        first, second = ticket.reference.split("-")[1:]

        assert found(cast.ana, second.lower()) == [ticket]
        assert found(cast.ana, f"{first} {second}") == [ticket]


class TestQueriesThatAreNotWords:
    @pytest.mark.parametrize(
        "typed",
        ['"', "*", "NOT", "dominio*", "subject:dominio", "(dominio", "dominio OR", "^dominio", "-"],
    )
    def test_search_syntax_is_plain_text(
        self, cast: Cast, open_ticket: OpenTicket, typed: str
    ) -> None:
        ticket = open_ticket(subject="Dominio", body="Algo")

        # Never an error, never an operator: the words in it are looked for as words ("subject"
        # of "subject:dominio" too, which this ticket lacks), and nothing else.
        expected = [ticket] if "dominio" in typed and "subject" not in typed else []
        assert found(cast.ana, typed) == expected

    def test_punctuation_alone_finds_nothing(self, cast: Cast, open_ticket: OpenTicket) -> None:
        open_ticket(subject="Sin comodines", body="¿Qué pasa?")

        for typed in ("%", "_", "?", "@", "¿?", "--", "<>"):
            assert found(cast.ana, typed) == [], typed
            assert found(cast.agent, typed) == [], typed
