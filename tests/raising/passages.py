"""Real passages the pillar tests share (quoted here, not read from ../shared/data)."""

# WikiText-2 (valid), the European lobster article, de-tokenised by hand.
LOBSTER = (
    "Homarus gammarus, known as the European lobster or common lobster, is a species of clawed lobster "
    "from the eastern Atlantic Ocean, Mediterranean Sea and parts of the Black Sea. It is closely related "
    "to the American lobster, H. americanus. It may grow to a length of 60 cm (24 in) and a mass of "
    "6 kilograms (13 lb), and bears a conspicuous pair of claws. In life, the lobsters are blue, only becoming "
    '"lobster red" on cooking. Mating occurs in the summer, producing eggs which are carried by the females '
    "for up to a year before hatching into planktonic larvae. Homarus gammarus is a highly esteemed food, "
    "and is widely caught using lobster pots, mostly around the British Isles."
)
