"""Ordinary words and brand names: strings that look like codes in capitals but are not."""

from __future__ import annotations

import re

# A hand-picked list rather than a dictionary package: the project takes no extra dependency
# for this, and what matters is the vocabulary of code pages (headings, buttons, rewards,
# game-guide prose), not the whole language. Words of five letters and more; shorter
# strings are rarely inside a code pattern's length range.
_WORDS = """
about above absolute access account accounts achievement achievements across action actions
active actually added adding addition additional address admin advance advanced adventure
adventurer advertise advertisement after afternoon again against agent agents ahead alert
all along already alright always amazing amount amounts ancient andrew android angel angels
anniversary announce announced announcement announcements annual another answer answers
anyone anything anyway anywhere apologies apology appear appears apple application apply
approve april archive archives areas arena around arrival arrive arrived article articles
artifact artifacts asked assets attack attention audio august author authors available
avatar avatars award awards awesome background backpack badge badges balance banner banners
based basic battle battles beach beautiful because become before began begin beginner
beginners behind being believe below benefit benefits berry better between beyond birthday
blade blank block blocked bloom board bonus bonuses books bottle bottled bound boxes brand
bread break bridge bright bring broken brother browse browser bugfix build builds bundle
bundles button buttons buyer cache calendar called campaign cancel cannot canvas capital
captain capture cards career carry casual category catalog celebrate celebration center
centre certain chain chains challenge challenges chance change changed changes channel
channels chapter chapters character characters charge chart check checked checking checklist
cheese chest chests chicken choice choose chosen christmas circle city claim claimed claiming
claims class classic clean clear click clicked client climb clock close closed closing cloud
coins collab collaboration collect collected collection college colour color column combat
combo comeback comment comments common community company compare complete completed
complex confirm confirmed connect connection contact contain contains content contents
contest continue control cookie cookies copied copyright corner correct costs could count
country county couple coupon coupons course cover create created creator credit credits
crimson crystal crystals cuisine currency current currently custom customer daily damage
danger dark darkness database dated daybreak december decide default defense delete
deleted delivery demand design desktop detail details developer developers device devices
diamond diamonds different difficult digital dinner direct direction directly disable
disabled discount discover discovered display divine doing dollar domain donate double
download downloads dragon dragons drawing dream dreams dress drink drive driver during
early earth easily easter eastern edition editor education effect effects eight either
element elements eleven email emails empty enable enabled energy engine english enhance
enhancement enjoy enough enter entered entire entry equal error errors escape event events
every everyone everything exact example examples exchange exchanged exclusive exist exists
expand expansion experience expire expired expires expiring expiry explore express extra
faction factions failed false family famous fandom fantasy faster father favorite favourite
feature featured features february feedback festival fields fifty fight fighter figure
filter final finally finish finished first flame flames flash flight floor flower flowers
follow followers following font foods force forest forever forget format forum forums
forward found founder fourth frame france freebie freebies french friday friend friends
front frozen fruit funny future gacha gallery gamer gamers games gaming garden gather
general genre gentle german giant gifts girls given giveaway giveaways gives giving glass
global globe glory goal golden google grand grant graphic graphics great green group groups
growth guard guess guest guide guides guild hands happen happened happening happens happy
harbor harbour hardware header heading health heart hearts heavy hello helper heroes hidden
higher highlight highlights history holiday holidays homepage honor honour horizon hospital
hotel hours house however human hunter hunters image images impact import important include
included includes including income index indicator infinite info information input inside
install instead intro introduce introduction inventory invite island issue issues items
january joined journey judge july junior justice keeper keyboard kingdom kitchen knight
knights knowledge known label labels language languages large laser later latest launch
launched layer leader leaders league learn least leave legend legendary legends length
lesson letter level levels library license light limit limited links listed listing lists
little livestream livestreams loading local location login logout london looking lookup
loose lottery lovely lower lucky machine magazine magic mail mailbox maintenance major
making manage manager manual march market master match material materials matter maximum
mayor meaning media medium member members memory mention mentioned menus merchant message
messages method middle midnight might miles million mind minimum minor minute minutes
mirror mission missions mobile model modern moment monday money monster monsters month
monthly months moon morning mother motion mountain mouse movie movies multiple music myself
mystery mystic native natural nature navigation nearly network never newest newsletter
night nightmare ninja noble normal north nothing notice notification notifications novel
november number numbers object occasion ocean october offer offered offers office official
offline often online only opened opening option options orange order orders origin
original other others outdated outside overview owner packs paint panel paper parent
partner partners party passed passive password patch patches pattern payment peace people
perfect period permanent person personal phase phone photo photos picture pictures piece
pieces pizza place placed places plains planet platform platforms player players playing
please pleasure plenty point points policy portal position possible potion potions power
powers premium present press pretty previous price prices primary prime prince princess
print prior privacy prize prizes probably problem problems process produce product products
profile program progress project projects promise promo promotion promotional promotions
proof proper protect provide provided public publish published purchase purple purpose
puzzle quality quantity quarter queen quest quests question questions quick quickly quiet
quite radio raise random range ranking rapid rarity rather reach reached react reader
readers ready reason reasons recent recently recharge record records recover redeem
redeemable redeemed redeeming redemption reference refresh region regions register
regular release released releases relic relics remain remember remove removed render
repair replace reply report request required rerun reset resin resource resources respect
response result results resume return returning review reward rewards rhythm right river
robot rocket rolls round royal rules running safety salary sample saturday scene schedule
school science score screen script search season seasons second secret section sections
security select selected sell sender senior september sequence series server servers
service services session setting settings setup seven several shadow shape share shared
shield shift shine shipping shoot short should show shown shows shrine sign signal signed
silver simple since single sister sites skill skills slider small smart smile social
soldier solid solution some someone something sometimes sorry sound source sources south
space speaker special specific speed spell spend spirit sponsor sponsored spring square
squad staff stage stamina stand standard stars start started starter starting state states
station status steel still stock stone stones store stories storm story strange stream
streams street strength string strong studio stuff style subject submit subscribe success
summary summer summon summons sunday super supply support supported surprise survey sweet
switch sword swords symbol system systems table tablet tables talent talents target teams
technology television temple template terms terrible thank thanks theme themes there these
thing things think third those though thought three thunder thursday ticket tickets tier
tiers timer times title titles today together token tokens tomorrow tonight total touch
tournament tower track trade trailer trailers training transfer travel traveler travelers
traveller treasure trial trick trigger trophy trouble truly trust truth tuesday tutorial
twelve twenty twitter typical under unique unite united universe unknown unless unlimited
unlock unlocked until update updated updates upgrade upgrades upload usage useful username
users usual usually valid value values various vault version versions video videos viewer
views village virtual visible visit visitor visitors voice volume voucher vouchers waiting
wallpaper wallpapers warning watch water weapon weapons website websites wednesday weekend
weekly weeks welcome western whale wheel where which while white whole widget width window
windows winner winners winter wishes within without wonder wonderful world worlds worth
would write writer written wrong yellow yesterday young yours yourself youth
freedom victory legacy destiny eternal infinity sunshine rainbow
code codes redeem promocode promocodes giftcode giftcodes coupon redeemcode
newcodes oldcodes allcodes livecodes
disclaimer reminder caution notice spoiler spoilers breaking trending featured subscribe
signup register contact support privacy policy conditions accept decline preferences
english deutsch francais espanol portugues italiano russian chinese japanese korean thai
vietnamese indonesian turkish polish arabic hindi german french spanish italian
pity reroll rerolls tierlist builds teams comps walkthrough achievement dungeon domain
domains artifact planar ornament lightcone element elements pyro hydro anemo electro dendro
cryo physical quantum imaginary destruction erudition harmony nihility preservation
abundance remembrance anomaly rupture havoc fusion glacio spectro resonator resonators
echo echoes sonata weekly bosses stellar jade jades polychrome polychromes astrite
astrites primogem primogems crystals credits denny dennies tokens shards fragments
january february march april june july august september october november december
monday tuesday wednesday thursday friday saturday sunday
awesome amazing epic ultimate official special freebies freebie giveaway giveaways
version versions patch patches livestream livestreams program programme preview
anniversary celebration festival carnival concert collab collaboration crossover
announcement announcements trailer teaser showcase overview summary introduction
contents content chapter chapters episode episodes season seasons region regions
rating ratings review reviews ranking rankings opinion opinions comment comments reply
answer answers question questions discussion discussions community forum forums
profile account accounts server servers global america europe asia
exchange exchanged exchanging redeem redeemed redeeming redemption redemptions claim
claimed claiming reward rewards rewarded bonus bonuses mailbox inbox message messages
currently recently previously already always usually sometimes finally quickly
expired expiring expires expire active inactive invalid valid validity working
following available unavailable limited unlimited exclusive inclusive included
guide guides tutorial tutorials beginner beginners advanced expert experts tips tricks
materials material resources resource currency currencies premium standard
character characters weapon weapons banner banners event events quest quests
important attention warning warnings update updates updated latest newest oldest
asterite asterites starglitter stardust resin fragile condensed experience adventurer
enhancement mystic traveler travelers aether refined investigator bangboo tape tapes
battery batteries lustrous forging resonance potion potions stamina energy lunite radiant
tidal coral oroberyl credit sliver ascension talent talents fuel voucher vouchers ticket
tickets
"""

# Brands, platforms and sites: capitalised proper names that are never a game's code.
_BRANDS = """
youtube twitter facebook instagram tiktok discord reddit twitch bilibili weibo douyin
hoyoverse hoyolab mihoyo miyoushe kurogames kurobbs taptap hypergryph gryphline skland
playstation nintendo xbox android iphone ipad google apple amazon steam epicgames windows
github gitlab wordpress paypal primegaming samsung netflix spotify whatsapp telegram line
fandom gamepedia game8 gamesradar pockettactics sportskeeda prydwen crimsonwitch polygon
dexerto eurogamer kotaku ennead javascript typescript python jquery cloudflare
"""

WORDS: frozenset[str] = frozenset(_WORDS.split())
BRANDS: frozenset[str] = frozenset(_BRANDS.split())

_SUFFIXES = ("s", "es", "ed", "d", "ing", "er", "ers", "ly")


def is_word(text: str) -> bool:
    """True for an ordinary word (or a plain inflection of one), compared case-insensitively."""
    low = text.lower()
    if low in WORDS:
        return True
    return any(low.endswith(suffix) and low[: -len(suffix)] in WORDS for suffix in _SUFFIXES)


_CAMEL_PART = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+")


def camel_parts(text: str) -> list[str]:
    """Split "BlazeToNatlan" into its capitalised parts; digits form their own parts."""
    return _CAMEL_PART.findall(text)
